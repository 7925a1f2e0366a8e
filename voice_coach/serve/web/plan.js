"use strict";
// Your plan: when each routine is practised, planned against done this week, the
// streak of planned days kept, and today's sessions; and a form that sets a routine's
// plan as `voice-coach plan` does (PUT /api/plans/NAME). The routine picked in the
// studio above is the one the form plans. Text from the server is only set as text.
(() => {
  const { h: el, api: call } = window.voiceCoach;
  const box = document.getElementById("plans");
  if (!box) return;
  const list = document.getElementById("plan-list");
  const form = document.getElementById("plan-form");
  const routine = document.getElementById("plan-routine");
  const at = document.getElementById("plan-at");
  const days = document.getElementById("plan-days");
  const perWeek = document.getElementById("plan-per-week");
  const status = document.getElementById("plan-status");
  const canWrite = document.getElementById("studio")?.dataset.canWrite === "true";



  // The weeks before this one that had sessions planned: planned against done.
  function before(weeks) {
    const shown = weeks.slice(0, -1).filter((w) => w.planned);
    if (!shown.length) return null;
    return el("p", { class: "meta weeks" }, `Weeks before: ${shown.map((w) => `${w.week.slice(5)} ${w.done} of ${w.planned}`).join(", ")}`);
  }

  function show(data) {
    const items = data.plans.map((p) =>
      el(
        "li",
        { class: "plan", "data-routine": p.routine },
        el("p", {}, el("strong", {}, p.routine), ` — ${p.describe}`),
        el(
          "p",
          { class: "meta kept" },
          `${p.this_week} this week · streak: ${p.streak} ${p.streak_unit === "day" ? "planned day" : "week"}${p.streak === 1 ? "" : "s"}`,
        ),
        before(p.weeks),
        canWrite
          ? el("button", { type: "button", class: "button secondary", "aria-label": `Remove the plan of ${p.routine}`, onclick: () => clear(p.routine) }, "Remove")
          : null,
      ),
    );
    const today = data.today;
    const sessions = today.sessions.map((s) => `${s.at} ${s.routine}${s.done ? " (done)" : ""}`);
    const lines = [
      sessions.length ? `Today: ${sessions.join(", ")}.` : "Nothing planned today.",
      today.due_now.length ? `Due now: ${today.due_now.join(", ")}.` : null,
      today.next ? `Next: ${today.next.routine}, ${today.next.at.replace("T", " ").slice(0, 16)}.` : null,
      today.resting.length ? `Rest today after a flare-up: ${today.resting.join(", ")} (not counted as missed).` : null,
    ].filter(Boolean);
    list.replaceChildren(
      ...(items.length ? [el("ul", { class: "plan-items" }, items)] : [el("p", { class: "meta" }, "No plans yet.")]),
      ...(items.length ? [el("p", { id: "plan-today" }, lines.join(" "))] : []),
    );
  }

  async function load() {
    try {
      show(await call("GET", "/api/plans"));
    } catch (error) {
      list.replaceChildren(el("p", { class: "error" }, `The plans could not be read: ${error.message}`));
    }
  }

  async function clear(name) {
    status.textContent = "";
    try {
      show(await call("DELETE", `/api/plans/${encodeURIComponent(name)}`));
      status.textContent = `Removed the plan of ${name}.`;
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async function save(event) {
    event.preventDefault();
    for (const input of [at, days, perWeek]) input.removeAttribute("aria-invalid");
    status.textContent = "";
    const body = { at: at.value.split(/[\s,]+/).filter(Boolean) };
    if (perWeek.value) body.times_per_week = Number(perWeek.value);
    else if (days.value.trim()) body.days = days.value.trim();
    try {
      const data = await call("PUT", `/api/plans/${encodeURIComponent(routine.value)}`, body);
      show(data);
      const saved = data.plans.find((p) => p.routine === routine.value);
      status.textContent = `Planned ${routine.value}: ${saved ? saved.describe : ""}.`;
    } catch (error) {
      const field = { at, days, times_per_week: perWeek, "times-per-week": perWeek }[error.field];
      if (field) field.setAttribute("aria-invalid", "true");
      status.textContent = error.message;
    }
  }

  async function routines() {
    try {
      const data = await call("GET", "/api/routines");
      routine.replaceChildren(...data.routines.map((r) => el("option", { value: r.name }, r.title || r.name)));
    } catch (error) {
      status.textContent = `The routines could not be listed: ${error.message}`;
    }
  }

  // The routine picked in the studio is the one to plan.
  const library = document.getElementById("library");
  if (library) {
    new MutationObserver(() => {
      const picked = library.querySelector('button.pick[aria-current="true"]');
      if (picked && [...routine.options].some((o) => o.value === picked.dataset.name)) routine.value = picked.dataset.name;
    }).observe(library, { subtree: true, attributes: true, attributeFilter: ["aria-current"] });
  }
  // A session logged in the studio changes how well the plan was kept.
  const history = document.getElementById("history");
  if (history) new MutationObserver(load).observe(history, { childList: true });

  if (canWrite) {
    form.hidden = false;
    form.addEventListener("submit", save);
    routines();
  }
  load();
})();
