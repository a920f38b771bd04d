import { attempt, cell, el, fillTable, formValues, number, onSubmit, pagedList, post, showDone,
  startPage, t } from "./console.js";

function row(project) {
  return el("tr", { "data-project-id": project.project_id },
    el("td", {}, el("a", { href: `/console/projects/${encodeURIComponent(project.project_id)}` },
      project.project_id)),
    cell(project.name), cell(t(`category.${project.category}`)), cell(project.location),
    cell(t(`org.${project.owner_msp}`)), cell(number(project.expected_annual_reduction_kg), true));
}

if (startPage()) {
  // Category and owner are filtered by the read model; location (free text) on the page.
  const load = pagedList({
    path: "/api/v1/read/projects",
    filters: document.getElementById("project-filters"),
    more: document.getElementById("more"),
    params: ({ category, owner_msp: owner }) => ({ category, owner_msp: owner }),
    keep: (project, { location }) => project.location.toLowerCase().includes(location.toLowerCase()),
    show: (projects) => fillTable(document.getElementById("projects"), projects.map(row)),
  });
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
