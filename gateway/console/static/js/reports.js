import { attempt, cell, el, fillTable, formValues, get, isoDate, number, onSubmit, pagedList,
  post, settings, showDone, startPage, t } from "./console.js";

const container = document.getElementById("reports");
const decides = settings.action_orgs.decide_report.includes(settings.msp_id);
let load;

function readingsTable(report) {
  const head = ["reading.id", "reading.region", "reading.year", "reading.kwh", "reading.factor",
    "reading.factor_version"].map((key, i) => el("th", { scope: "col", className: i >= 2 ? "num" : null }, t(key)));
  const table = el("table", { className: "data" }, el("caption", {}, t("report.readings")),
    el("thead", {}, el("tr", {}, head)), el("tbody"));
  fillTable(table, report.scope2_lines.map((line) => el("tr", { "data-reading-id": line.reading_id },
    cell(line.reading_id), cell(line.region), cell(line.year, true), cell(number(line.kwh), true),
    cell(number(line.factor_g_per_kwh), true), cell(line.factor_version, true))));
  return table;
}

function decisionForms(report) {
  const path = `/api/v1/emission-reports/${encodeURIComponent(report.report_id)}`;
  const verify = el("button", { type: "button", className: "verify" }, t("report.verify"));
  verify.addEventListener("click", () => attempt(async () => {
    showDone(await post(`${path}/verify`, undefined, { action: "decide_report" }));
    await load();
  }));
  const reasonId = `reason-${report.report_id}`;
  const reject = el("form", { className: "inline-form reject" },
    el("label", { for: reasonId }, t("report.reason")),
    el("input", { id: reasonId, name: "reason", required: true }),
    el("button", { type: "submit" }, t("report.reject")));
  onSubmit(reject, async (form) => {
    showDone(await post(`${path}/reject`, formValues(form), { action: "decide_report" }));
    await load();
  });
  return el("div", { className: "actions" }, verify, reject);
}

function reportCard(report) {
  const headingId = `report-${report.report_id}`;
  return el("article", { className: "card report", "data-report-id": report.report_id,
    "aria-labelledby": headingId },
  el("h3", { id: headingId }, `${report.report_id} · ${t(`status.${report.status}`)}`),
  el("dl", { className: "facts" },
    // A report's lessee_id is the lessee's public reference, never its private id.
    el("dt", {}, t("lease.lessee_ref")), el("dd", {}, report.lessee_id),
    el("dt", {}, t("report.period")), el("dd", {}, `${isoDate(report.period_start)} – ${isoDate(report.period_end)}`),
    el("dt", {}, t("report.scope1")), el("dd", {}, number(report.scope1_kg)),
    el("dt", {}, t("report.scope2")), el("dd", {}, number(report.scope2_kg)),
    el("dt", {}, t("report.total")), el("dd", {}, number(report.total_kg))),
  readingsTable(report),
  decides && report.status === "submitted" ? decisionForms(report) : null);
}

// The list comes from the read model; each report's meter readings and factors from the ledger.
// The ledger is never behind the read model, so a report it shows decided since (just verified
// here, before the read model has its event) leaves a list filtered by status.
async function showReports(records, { status }) {
  const reports = (await Promise.all(records.map((record) =>
    get(`/api/v1/emission-reports/${encodeURIComponent(record.report_id)}`))))
    .filter((report) => !status || report.status === status);
  container.replaceChildren(...(reports.length ? reports.map(reportCard) : [el("p", {}, t("none"))]));
}

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const WRITES = {
  "submit-reading": ["/api/v1/meter-readings", "submit_reading"],
  "submit-report": ["/api/v1/emission-reports", "submit_report"],
  "publish-factor": ["/api/v1/emission-factors", "publish_factor"],
};

if (startPage()) {
  load = pagedList({
    path: "/api/v1/read/emission-reports",
    filters: document.getElementById("report-filters"),
    more: document.getElementById("more"),
    params: ({ status, lessee_id: lessee }) => ({ status, lessee_id: lessee }),
    show: showReports,
    pageSize: 20,
  });
  for (const [formId, [path, action]] of Object.entries(WRITES)) {
    const form = document.getElementById(formId);
    if (!form) continue;
    onSubmit(form, async () => {
      showDone(await post(path, formValues(form), { action }));
      form.reset();
      await load();
    });
  }
  const evidence = document.getElementById("s-file");
  evidence?.addEventListener("change", () => attempt(async () => {
    if (evidence.files.length) document.getElementById("s-hash").value = await sha256Hex(evidence.files[0]);
  }));
  attempt(() => load());
}
