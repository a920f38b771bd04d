import { ConsoleError, get, keepKey, onSubmit } from "./console.js";

// Only a console page is a place to go back to after signing in.
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  return /^\/console\/[A-Za-z0-9_.\/-]*$/.test(next) ? next : "/console/projects";
}

onSubmit(document.getElementById("sign-in"), async (form) => {
  const key = form.elements.api_key.value.trim();
  if (!key) throw new ConsoleError(form.elements.api_key.validationMessage);
  await get("/api/v1/read/status", { key }); // a reader's request: proves the key works
  keepKey(key);
  form.reset();
  location.assign(nextPage());
});
