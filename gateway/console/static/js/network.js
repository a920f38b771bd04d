import { attempt, cell, el, fillTable, get, number, startPage, t } from "./console.js";

// The read model's status per chaincode; a gateway whose follower keeps dead letters adds
// ``dead_letter_count`` and ``latest_dead_letters`` to each (shown when present).
function deadLetters(chaincodes) {
  const letters = chaincodes.flatMap((c) => c.latest_dead_letters ?? []);
  if (!letters.length) return el("p", {}, t("none"));
  return el("ul", {}, letters.map((letter) => el("li", {}, el("code", {}, JSON.stringify(letter)))));
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
      cell(number(c.block_number), true), cell(number(c.dead_letter_count), true))));
  document.getElementById("dead-letters").replaceChildren(deadLetters(status.chaincodes));
}

if (startPage()) {
  document.getElementById("refresh").addEventListener("click", () => attempt(load));
  attempt(load);
}
