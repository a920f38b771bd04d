// The schedule table and its two charts, for a lease on the ledger and for a preview alike:
// the rate per period with its base rate, cap and floor; verified emissions against the
// target path, with the tier each reached.
import { cell, el, fillTable, number, percent, t, yuan } from "./console.js";

const charts = {};

// DESIGN.md step 2: baseline * (10000 - reduction * (p - 1) * months / 12) / 10000, rounded
// half away from zero, never below 0; exact in BigInt (the product can pass 2^53).
export function targetKg(terms, period) {
  const numerator = BigInt(terms.baseline_kg)
    * (120000n - BigInt(terms.annual_reduction_bps) * BigInt((period - 1) * terms.period_months));
  if (numerator <= 0n) return 0;
  return Number((2n * numerator + 120000n) / 240000n);
}

function scheduleRow(row, fixedThrough) {
  const fixed = fixedThrough !== null && row.period <= fixedThrough;
  return el("tr", { "data-period": row.period, className: fixed ? "fixed" : "projected" },
    cell(row.period, true), cell(percent(row.rate_bps), true),
    cell(percent(row.adjustment_bps, { signed: true }), true), cell(yuan(row.interest_fen), true),
    cell(yuan(row.principal_fen), true), cell(yuan(row.instalment_fen), true),
    cell(yuan(row.outstanding_after_fen), true),
    cell(fixedThrough === null ? "—" : t(fixed ? "yes" : "no")));
}

const line = (label, data, color, extra = {}) => ({
  label, data, borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 2,
  ...extra,
});

function rateData(rows, terms) {
  const datasets = [line(t("series.rate"), rows.map((r) => r.rate_bps / 100), "#0b6e4f",
    { stepped: true })];
  if (terms) {
    const constant = (bps) => rows.map(() => Math.max(0, bps) / 100);
    datasets.push(
      line(t("series.base"), constant(terms.base_rate_bps), "#555555", { borderDash: [6, 4], pointRadius: 0 }),
      line(t("series.cap"), constant(terms.base_rate_bps + terms.cap_bps), "#b3261e", { borderDash: [2, 3], pointRadius: 0 }),
      line(t("series.floor"), constant(terms.base_rate_bps + terms.floor_bps), "#1f5fbf", { borderDash: [2, 3], pointRadius: 0 }));
  }
  return { labels: rows.map((r) => r.period), datasets };
}

// verified: period -> {kg, tier}; the tier is the ratchet tier its report reached.
function emissionsData(rows, terms, verified) {
  const labels = rows.map((r) => r.period);
  const datasets = [{
    type: "bar", label: t("series.verified"), backgroundColor: "#2e7d32",
    data: labels.map((p) => verified.get(p)?.kg ?? null),
    tiers: labels.map((p) => verified.get(p)?.tier ?? null),
  }];
  if (terms) {
    datasets.push(line(t("series.target"), labels.map((p) => targetKg(terms, p)), "#6b4f00",
      { type: "line", borderDash: [6, 4] }));
  }
  return { labels, datasets };
}

function tierLabel(tier) {
  if (!tier) return "";
  if (tier.basis === "tier") return `${t("fix.tier")}: ${t("tier.at_least", { bps: number(tier.min_bps) })}`;
  return `${t("fix.basis")}: ${t(`basis.${tier.basis}`)}`;
}

function draw(kind, data, yTitle) {
  const canvas = document.querySelector(`canvas[data-chart="${kind}"]`);
  if (!window.Chart) {
    canvas.replaceWith(el("p", { className: "error" }, t("chart.no_library")));
    return;
  }
  if (charts[kind]) {
    charts[kind].data = data;
    charts[kind].update();
    return;
  }
  charts[kind] = new window.Chart(canvas, {
    type: kind === "rate" ? "line" : "bar",
    data,
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: { x: { title: { display: true, text: t("col.period") } },
        y: { title: { display: true, text: yTitle }, beginAtZero: kind === "emissions" } },
      plugins: { tooltip: { callbacks: { afterLabel: (item) => tierLabel(item.dataset.tiers?.[item.dataIndex]) } } },
    },
  });
}

// rows: schedule rows; fixedThrough: last fixed period (null for a preview); terms may be
// absent (the public view of a lease); verified: Map period -> {kg, tier}.
export function renderSchedule({ rows, fixedThrough = null, terms = null, verified = new Map() }) {
  fillTable(document.getElementById("schedule"), rows.map((row) => scheduleRow(row, fixedThrough)));
  draw("rate", rateData(rows, terms), t("col.rate"));
  draw("emissions", emissionsData(rows, terms, verified), "kgCO2e");
}
