import { attempt, cell, el, fillTable, get, number, startPage, t } from "./console.js";

// Dead letters are shown whatever their shape: a count, or a list of records.
function deadLetters(value) {
  if (value === undefined || value === null) return el("p", {}, t("none"));
  if (typeof value === "number") return el("p", { "data-count": value }, number(value));
  if (!value.length) return el("p", { "data-count": 0 }, t("none"));
  return el("ul", { "data-count": value.length },
    value.map((letter) => el("li", {}, el("code", {}, JSON.stringify(letter)))));
}

async function load() {
  const height = document.getElementById("height");
  try {
    height.textContent = number((await get("/ready")).channel_height);
  } catch (err) {
    height.textContent = t("network.unreachable");
  }
  const status = await get("/api/v1/read/status");
  fillTable(document.getElementById("read-model"), status.chaincodes.map((c) =>
    el("tr", { "data-chaincode": c.chaincode }, cell(c.chaincode), cell(t(c.listening ? "yes" : "no")),
      cell(number(c.block_number), true))));
  document.getElementById("dead-letters").replaceChildren(deadLetters(status.dead_letters));
}

if (startPage()) {
  document.getElementById("refresh").addEventListener("click", () => attempt(load));
  attempt(load);
}
