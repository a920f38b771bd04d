import { attempt, cell, el, fillTable, formValues, get, number, onSubmit, post, query, settings,
  showDone, startPage, t } from "./console.js";

const table = document.getElementById("projects");
const more = document.getElementById("more");
const filters = document.getElementById("project-filters");
let shown = [];
let bookmark = "";

function row(project) {
  return el("tr", { "data-project-id": project.project_id },
    el("td", {}, el("a", { href: `/console/projects/${encodeURIComponent(project.project_id)}` },
      project.project_id)),
    cell(project.name), cell(t(`category.${project.category}`)), cell(project.location),
    cell(t(`org.${project.owner_msp}`)), cell(number(project.expected_annual_reduction_kg), true));
}

// Category and owner are filtered by the read model; location (free text) on the page.
async function load(next = false) {
  const { category, owner_msp: owner, location } = formValues(filters);
  const page = await get(`/api/v1/read/projects${query({ category, owner_msp: owner,
    page_size: 50, bookmark: next ? bookmark : "" })}`);
  bookmark = page.bookmark;
  const place = location.toLowerCase();
  const matching = page.records.filter((p) => !place || p.location.toLowerCase().includes(place));
  shown = next ? [...shown, ...matching] : matching;
  fillTable(table, shown.map(row));
  more.hidden = !bookmark;
}

if (startPage()) {
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => load());
  });
  more.addEventListener("click", () => attempt(() => load(true)));
  const register = document.getElementById("register-project");
  if (register) {
    onSubmit(register, async (form) => {
      const answer = await post("/api/v1/projects", formValues(form), { action: "register_project" });
      const id = answer.result.project_id;
      showDone(answer, " ", el("a", { href: `/console/projects/${encodeURIComponent(id)}` }, id));
      form.reset();
      await load();
    });
  }
  attempt(() => load());
}
