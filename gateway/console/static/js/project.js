import { attempt, cell, facts, fillTable, formValues, get, number, onSubmit, post, showDone,
  startPage, t, timestamp, yuan } from "./console.js";

const list = document.getElementById("project");
const id = encodeURIComponent(list.dataset.projectId);

async function load() {
  const project = await get(`/api/v1/projects/${id}`);
  facts(list, [
    [t("project.name"), project.name], [t("project.category"), t(`category.${project.category}`)],
    [t("project.location"), project.location], [t("project.owner"), t(`org.${project.owner_msp}`)],
    [t("project.reduction"), number(project.expected_annual_reduction_kg)],
    [t("project.registered_at"), timestamp(project.registered_at)],
  ]);
  const { interests } = await get(`/api/v1/projects/${id}/interests`);
  fillTable(document.getElementById("interests"), interests.map((interest) => {
    const row = document.createElement("tr");
    row.dataset.partner = interest.partner_msp;
    row.append(cell(t(`org.${interest.partner_msp}`)), cell(yuan(interest.amount_fen), true),
      cell(interest.note), cell(timestamp(interest.expressed_at)));
    return row;
  }));
}

if (startPage()) {
  const express = document.getElementById("express-interest");
  if (express) {
    onSubmit(express, async (form) => {
      const answer = await post(`/api/v1/projects/${id}/interest`, formValues(form),
        { action: "express_interest" });
      showDone(answer);
      form.reset();
      await load();
    });
  }
  attempt(load);
}
