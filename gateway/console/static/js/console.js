// What every console page shares: the page's settings and messages, the API key of the tab,
// calls to the REST API, errors as sentences, number/money/date formats, and form handling.

const pageData = JSON.parse(document.getElementById("console-data").textContent);
export const settings = pageData.settings;
const messages = pageData.messages;

export function t(key, values = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// --- the API key: this tab only (sessionStorage), sent only in the Authorization header ----

const KEY = "carbonlease.api_key";
export const apiKey = () => sessionStorage.getItem(KEY);
export const keepKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

// --- errors as sentences ------------------------------------------------------------------

export class ConsoleError extends Error {
  constructor(sentence, error = null) {
    super(sentence);
    this.error = error; // the API's {code, message, details}, shown as technical detail
  }
}

const CONFLICT_CODES = new Set(["CONFLICT", "MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT",
  "IDEMPOTENCY_IN_PROGRESS"]);
const ENDORSEMENT_CODES = new Set(["ENDORSEMENT_POLICY_FAILURE", "ENDORSEMENT_FAILED"]);

export function orgNames(orgs) {
  return orgs.map((org) => t(`org.${org}`)).join(t("or"));
}

function failingFields(details) {
  // webargs puts failing fields under their location ("json", "query"), nested as sent.
  const names = [];
  const walk = (value, path) => {
    if (Array.isArray(value) || value === null || typeof value !== "object") {
      names.push(path.join("."));
      return;
    }
    for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
  };
  for (const value of Object.values(details ?? {})) {
    if (value && typeof value === "object" && !Array.isArray(value)) walk(value, []);
  }
  return names.filter(Boolean);
}

export function explain(status, error, action) {
  const code = error?.code ?? String(status);
  if (status === 401) return t("err.UNAUTHENTICATED");
  if (status === 403) {
    if (error?.details?.required_role) {
      return t("err.role", { role: error.details.role, required: error.details.required_role });
    }
    const orgs = settings.action_orgs[action];
    if (orgs) return t("err.FORBIDDEN", { orgs: orgNames(orgs), org: t(`org.${settings.msp_id}`) });
  }
  if (code === "NOT_FOUND" || (status === 404 && !error)) return t("err.NOT_FOUND");
  if (code === "ALREADY_EXISTS") return t("err.ALREADY_EXISTS");
  if (code === "INVALID_STATE") return t("err.INVALID_STATE");
  if (status === 422 || status === 400 || code === "INVALID_ARGUMENT") {
    const fields = failingFields(error?.details);
    return fields.length ? `${t("err.INVALID_ARGUMENT")} ${t("err.fields", { fields: fields.join(", ") })}`
      : t("err.INVALID_ARGUMENT");
  }
  if (CONFLICT_CODES.has(code)) return t("err.conflict");
  if (ENDORSEMENT_CODES.has(code)) return t("err.endorsement");
  if (status === 503) return t("err.unavailable");
  if (status === 504) return t("err.unknown_outcome");
  return t("err.other", { code });
}

// --- the REST API -------------------------------------------------------------------------

export async function api(method, path, { body, action, key = apiKey() } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch (err) {
    throw new ConsoleError(t("err.network"));
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch (err) {
    answer = null;
  }
  if (!response.ok) {
    throw new ConsoleError(explain(response.status, answer?.error, action), answer?.error);
  }
  return answer;
}

export const get = (path, options) => api("GET", path, options);
export const post = (path, body, options = {}) => api("POST", path, { ...options, body });

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// --- formats ------------------------------------------------------------------------------

const LOCALES = { en: "en", "zh-Hans": "zh-CN", "zh-Hant": "zh-HK" };
const grouped = new Intl.NumberFormat(LOCALES[settings.language], { maximumFractionDigits: 0 });
export const DASH = "—";

export const number = (value) => (value === null || value === undefined ? DASH : grouped.format(value));

// Integer fen -> "¥1,234.56", in integer arithmetic (no binary fractions of a yuan).
export function yuan(fen) {
  if (fen === null || fen === undefined) return DASH;
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}¥${grouped.format(Math.floor(abs / 100))}.${String(abs % 100).padStart(2, "0")}`;
}

// Basis points -> "4.50%"; signed ("+0.25%") for adjustments.
export function percent(bps, { signed = false } = {}) {
  if (bps === null || bps === undefined) return DASH;
  const abs = Math.abs(bps);
  const sign = bps < 0 ? "-" : signed && bps > 0 ? "+" : "";
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}%`;
}

export const isoDate = (value) => (value ? value.slice(0, 10) : DASH);

// "2025-01-02T03:04:05.000Z" -> "2025-01-02 03:04:05 UTC"
export function timestamp(value) {
  if (!value) return DASH;
  return `${value.slice(0, 10)} ${value.slice(11, 19)} UTC`;
}

// "1,234.5" yuan -> 123450 fen, exactly; anything else is refused with a sentence.
export function parseYuan(text) {
  const cleaned = text.replace(/[¥,\s]/g, "");
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(cleaned);
  if (!match) throw new ConsoleError(t("err.amount"));
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}

// --- DOM ----------------------------------------------------------------------------------

// Builds elements from data with textContent only, so nothing from the ledger becomes markup.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function fillTable(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (!rows.length) {
    const columns = table.tHead.rows[0].cells.length;
    body.append(el("tr", {}, el("td", { colspan: columns }, t("none"))));
  }
}

export const cell = (value, numeric = false) => el("td", numeric ? { className: "num" } : {}, value);

export function facts(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

// --- notices ------------------------------------------------------------------------------

const notice = () => document.getElementById("notice");

export function showError(err) {
  const box = notice();
  const sentence = err instanceof ConsoleError ? err.message : t("err.other", { code: "—" });
  const parts = [el("p", { className: "error", role: "alert" }, sentence)];
  if (err instanceof ConsoleError && err.error) {
    parts.push(el("details", {}, el("summary", {}, t("detail")),
      el("code", {}, `${err.error.code}: ${err.error.message}`)));
  }
  if (err instanceof ConsoleError && err.error?.code === "UNAUTHENTICATED") {
    parts.push(el("p", {}, el("a", { href: "/console/" }, t("signin.title"))));
  }
  box.replaceChildren(...parts);
  if (!(err instanceof ConsoleError)) console.error(err);
}

export function showDone(answer, ...extra) {
  notice().replaceChildren(el("p", { className: "done" },
    answer?.block_number ? t("done.block", { block: answer.block_number }) : "", ...extra));
}

export const clearNotice = () => notice().replaceChildren();

// Runs an async step, showing its error as a sentence instead of leaving the page half done.
export async function attempt(step) {
  try {
    return await step();
  } catch (err) {
    showError(err);
    return undefined;
  }
}

// --- forms --------------------------------------------------------------------------------

// A form's named fields as the API wants them: data-type="int" (whole numbers; anything else
// is sent as typed so that the API names the field), "yuan" (to integer fen), "list".
export function formValues(form) {
  const values = {};
  for (const field of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    const text = field.value.trim();
    switch (field.dataset.type) {
      case "int":
        values[field.name] = /^-?\d+$/.test(text) ? Number(text) : text;
        break;
      case "yuan":
        values[field.name] = parseYuan(text);
        break;
      case "list":
        values[field.name] = text.split(",").map((item) => item.trim()).filter(Boolean);
        break;
      default:
        values[field.name] = text;
    }
  }
  return values;
}

// Sends a form to the API on submit; the submit button is disabled while it runs.
export function onSubmit(form, send) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((button) => { button.disabled = true; });
    clearNotice();
    try {
      await send(form);
    } catch (err) {
      showError(err);
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  });
}

// --- page start ---------------------------------------------------------------------------

// Pages other than sign-in need the tab's key; without one, sign in and come back.
export function startPage() {
  if (!apiKey()) {
    location.assign(`/console/${query({ next: location.pathname })}`);
    return false;
  }
  document.getElementById("sign-out")?.addEventListener("click", () => {
    forgetKey();
    location.assign("/console/");
  });
  return true;
}

// --- read-model lists ---------------------------------------------------------------------

// A filtered, paged list from the read model: ``params(values)`` turns the filter form into the
// query, ``keep(record, values)`` filters further on the page, ``show(records, values)`` draws
// every record so far; "More" fetches the next page. Returns ``load`` (call it to start again).
export function pagedList({ path, filters, more, params, show, keep = () => true, pageSize = 50 }) {
  let bookmark = "";
  let shown = [];
  async function load(next = false) {
    const values = formValues(filters);
    const page = await get(`${path}${query({ ...params(values), page_size: pageSize,
      bookmark: next ? bookmark : "" })}`);
    bookmark = page.bookmark;
    const kept = page.records.filter((record) => keep(record, values));
    shown = next ? [...shown, ...kept] : kept;
    await show(shown, values);
    more.hidden = !bookmark;
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => load());
  });
  more.addEventListener("click", () => attempt(() => load(true)));
  return load;
}
