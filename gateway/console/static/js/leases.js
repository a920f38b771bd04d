import { attempt, cell, el, fillTable, formValues, get, isoDate, percent, query, startPage, t,
  yuan } from "./console.js";

const table = document.getElementById("leases");
const more = document.getElementById("more");
const filters = document.getElementById("lease-filters");
let shown = [];
let bookmark = "";

function row(lease) {
  return el("tr", { "data-lease-id": lease.lease_id },
    el("td", {}, el("a", { href: `/console/leases/${encodeURIComponent(lease.lease_id)}` },
      lease.lease_id)),
    cell(lease.lessee_id), cell(lease.project_id), cell(t(`status.${lease.status}`)),
    cell(yuan(lease.principal_fen), true), cell(percent(lease.rate_bps), true),
    cell(`${lease.fixed_through_period} / ${lease.term_periods}`, true),
    cell(isoDate(lease.start_date)));
}

async function load(next = false) {
  const { status, lessee_id: lessee } = formValues(filters);
  const page = await get(`/api/v1/read/leases${query({ status, lessee_id: lessee, page_size: 50,
    bookmark: next ? bookmark : "" })}`);
  bookmark = page.bookmark;
  shown = next ? [...shown, ...page.records] : page.records;
  fillTable(table, shown.map(row));
  more.hidden = !bookmark;
}

if (startPage()) {
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => load());
  });
  more.addEventListener("click", () => attempt(() => load(true)));
  attempt(() => load());
}
