import { attempt, clearNotice, formValues, onSubmit, post, startPage } from "./console.js";
import { renderSchedule } from "./schedule.js";

const form = document.getElementById("new-lease");
// Sent beside the terms; lessee_id and lessee_name are private like them (the gateway sends
// them as transient data), lessee_ref is the lessee's public pseudonym.
const PARTIES = ["lease_id", "project_id", "lessee_ref", "lessee_id", "lessee_name"];
let pending = null;
let latest = 0;

function terms() {
  const values = formValues(form);
  const mins = [...form.querySelectorAll("[name=tier_min]")];
  const adjustments = [...form.querySelectorAll("[name=tier_adj]")];
  const ratchet = mins.map((min, i) => [min.value.trim(), adjustments[i].value.trim()])
    .filter(([min, adjustment]) => min !== "" && adjustment !== "")
    .map(([min, adjustment]) => ({ min_performance_bps: Number(min), adjustment_bps: Number(adjustment) }));
  const result = { ratchet };
  for (const [name, value] of Object.entries(values)) {
    if (!PARTIES.includes(name) && !["tier_min", "tier_adj", "preview_emissions"].includes(name)) {
      result[name] = value;
    }
  }
  return result;
}

// Verified kg assumed for every period of the preview (null: no report).
function assumedEmissions(count) {
  const text = document.getElementById("n-emissions").value.trim();
  return Array.from({ length: Math.max(0, Math.min(count, 360)) }, () => (/^\d+$/.test(text) ? Number(text) : null));
}

async function preview() {
  const ask = ++latest;
  const leaseTerms = terms();
  const emissions = assumedEmissions(Number(leaseTerms.term_periods) || 0);
  const answer = await post("/api/v1/leases/preview", { terms: leaseTerms, emissions });
  if (ask !== latest) return; // a newer preview is on its way
  clearNotice();
  const verified = new Map(emissions.map((kg, i) => [i + 1, kg === null ? null : { kg }])
    .filter(([, value]) => value));
  renderSchedule({ rows: answer.rows, terms: leaseTerms, verified });
}

function previewSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => attempt(preview), 300);
}

if (startPage()) {
  form.addEventListener("input", previewSoon);
  form.addEventListener("change", previewSoon);
  onSubmit(form, async () => {
    const values = formValues(form);
    const lease = Object.fromEntries(PARTIES.map((name) => [name, values[name]]));
    const answer = await post("/api/v1/leases", { ...lease, terms: terms() }, { action: "lease" });
    location.assign(`/console/leases/${encodeURIComponent(answer.result.lease_id)}`);
  });
  attempt(preview);
}
