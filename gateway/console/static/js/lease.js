import { attempt, cell, el, facts, fillTable, get, isoDate, number, percent, post, showDone,
  startPage, t, timestamp, yuan } from "./console.js";
import { renderSchedule } from "./schedule.js";

const list = document.getElementById("lease");
const id = encodeURIComponent(list.dataset.leaseId);
const buttons = {
  activate: document.getElementById("activate"),
  fix: document.getElementById("fix-rate"),
  payment: document.getElementById("payment"),
};
let nextPayment = null; // {period, amount_fen} of the next unpaid fixed period

// The public record alone (private null) where this org may not read the terms or they were
// purged: say which, and show no empty terms, schedule or fixes.
function showTerms(lease) {
  const terms = lease.private?.terms.terms;
  const termsList = document.getElementById("terms");
  const purged = document.getElementById("terms-purged");
  termsList.hidden = !terms;
  document.getElementById("private-part").hidden = !terms;
  const purgedAt = !terms && lease.private_data_purged_at;
  purged.hidden = !purgedAt;
  purged.textContent = purgedAt ? t("terms.purged", { date: isoDate(purgedAt) }) : "";
  document.getElementById("terms-hidden").hidden = Boolean(terms || purgedAt);
  if (!terms) return;
  const tiers = [...terms.ratchet].sort((a, b) => a.min_performance_bps - b.min_performance_bps)
    .map((tier) => `${t("tier.at_least", { bps: number(tier.min_performance_bps) })}: ${percent(tier.adjustment_bps, { signed: true })}`);
  facts(termsList, [
    [t("terms.principal"), yuan(terms.principal_fen)], [t("terms.base_rate"), percent(terms.base_rate_bps)],
    [t("terms.term_periods"), number(terms.term_periods)], [t("terms.period_months"), number(terms.period_months)],
    [t("terms.amortization"), t(`amortization.${terms.amortization}`)], [t("terms.start_date"), isoDate(terms.start_date)],
    [t("terms.baseline"), number(terms.baseline_kg)], [t("terms.reduction"), number(terms.annual_reduction_bps)],
    [t("terms.ratchet"), tiers.join("; ")], [t("terms.cap"), percent(terms.cap_bps, { signed: true })],
    [t("terms.floor"), percent(terms.floor_bps, { signed: true })],
    [t("terms.missing"), percent(terms.missing_report_bps, { signed: true })],
  ]);
}

function fixRow(fix) {
  const tier = fix.basis === "tier" ? t("tier.at_least", { bps: number(fix.tier_min_performance_bps) })
    : t(`basis.${fix.basis}`);
  return el("tr", { "data-fixed-period": fix.period },
    cell(fix.period, true), cell(fix.based_on_period, true), cell(fix.report_id ?? "—"),
    cell(number(fix.verified_kg), true), cell(number(fix.target_kg), true),
    cell(number(fix.performance_bps), true), cell(tier),
    cell(percent(fix.adjustment_bps, { signed: true }), true), cell(percent(fix.rate_bps), true));
}

function showActions(lease, rows) {
  if (!buttons.activate) return; // not the Lessor's console
  const terms = lease.private?.terms.terms;
  buttons.activate.hidden = lease.status !== "draft";
  buttons.fix.hidden = !(lease.status === "active" && terms
    && lease.fixed_through_period < terms.term_periods);
  const next = lease.paid_through_period + 1;
  const row = rows.find((r) => r.period === next);
  nextPayment = lease.status === "active" && row && next <= lease.fixed_through_period
    ? { period: next, amount_fen: row.instalment_fen } : null;
  buttons.payment.hidden = !nextPayment;
  if (nextPayment) {
    document.getElementById("pay").textContent = `${t("action.pay", { period: next })} (${yuan(row.instalment_fen)})`;
  }
}

// Both answers first, then the whole page at once: the table, the charts and the fixes never
// show two different moments of the lease.
async function load() {
  const [lease, schedule] = await Promise.all([get(`/api/v1/leases/${id}`),
    get(`/api/v1/leases/${id}/schedule`)]);
  const lessee = lease.private?.terms;
  facts(list, [
    [t("lease.status"), t(`status.${lease.status}`)], [t("lease.lessee_ref"), lease.lessee_ref],
    ...(lessee ? [[t("lease.lessee"), `${lessee.lessee_name} (${lessee.lessee_id})`]] : []),
    [t("lease.project"), el("a", { href: `/console/projects/${encodeURIComponent(lease.project_id)}` }, lease.project_id)],
    [t("lease.fixed_through"), number(lease.fixed_through_period)],
    [t("lease.paid_through"), number(lease.paid_through_period)],
    [t("lease.created_at"), timestamp(lease.created_at)],
    [t("lease.terms_hash"), el("code", { className: "hash" }, lease.terms_hash)],
  ]);
  showTerms(lease);
  // Rows are null exactly where the private view is: nothing private to draw.
  if (!lease.private || !schedule.rows) {
    showActions(lease, []);
    return;
  }
  const fixes = lease.private.adjustments;
  fillTable(document.getElementById("fixes"), fixes.map(fixRow));
  // The report of period p fixes the rate of p + 1: its verified kg belongs to period p.
  const verified = new Map(fixes.filter((f) => f.verified_kg !== null).map((f) => [f.based_on_period,
    { kg: f.verified_kg, tier: { basis: f.basis, min_bps: f.tier_min_performance_bps } }]));
  renderSchedule({ rows: schedule.rows, fixedThrough: schedule.fixed_through_period,
    terms: lease.private.terms.terms, verified });
  showActions(lease, schedule.rows);
}

async function act(path, body) {
  const answer = await post(`/api/v1/leases/${id}/${path}`, body, { action: "lease" });
  await load();
  showDone(answer);
}

if (startPage()) {
  if (buttons.activate) {
    buttons.activate.addEventListener("click", () => attempt(() => act("activate")));
    buttons.fix.addEventListener("click", () => attempt(() => act("fix-rate")));
    const paidOn = document.getElementById("paid-on");
    paidOn.value = new Date().toISOString().slice(0, 10);
    buttons.payment.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt(() => act("payments", { ...nextPayment, paid_on: paidOn.value }));
    });
  }
  attempt(load);
}
