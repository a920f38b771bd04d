import { attempt, cell, DASH, el, fillTable, isoDate, pagedList, percent, startPage, t,
  yuan } from "./console.js";

function row(lease) {
  return el("tr", { "data-lease-id": lease.lease_id },
    el("td", {}, el("a", { href: `/console/leases/${encodeURIComponent(lease.lease_id)}` },
      lease.lease_id)),
    cell(lease.lessee_ref), cell(lease.lessee_id ?? DASH), cell(lease.project_id),
    cell(t(`status.${lease.status}`)),
    // Private columns are null where this org may not read the terms: dashes, and the
    // number of periods unknown.
    cell(yuan(lease.principal_fen), true), cell(percent(lease.rate_bps), true),
    cell(`${lease.fixed_through_period} / ${lease.term_periods ?? DASH}`, true),
    cell(isoDate(lease.start_date)));
}

if (startPage()) {
  const load = pagedList({
    path: "/api/v1/read/leases",
    filters: document.getElementById("lease-filters"),
    more: document.getElementById("more"),
    params: ({ status, lessee_ref, lessee_id }) => ({ status, lessee_ref, lessee_id }),
    show: (leases) => fillTable(document.getElementById("leases"), leases.map(row)),
  });
  attempt(() => load());
}
