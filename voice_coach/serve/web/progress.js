// Pain and progress: the chart of minutes and average pain per week (an SVG the server
// draws, put into the page: no script or font from elsewhere), and a switch per routine
// that carries a progression, saved into the profile like `settings --build-up --save`.
"use strict";
(() => {
  const { h: el } = window.voiceCoach;
  const section = document.getElementById("progress");
  if (!section) return;
  const chartBox = document.getElementById("progress-chart");
  const list = document.getElementById("progressions");
  const canWrite = document.getElementById("studio")?.dataset.canWrite === "true";


  async function drawChart() {
    try {
      const response = await fetch("/api/history/chart.svg", { cache: "no-store" });
      if (!response.ok) throw new Error(response.statusText);
      const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml").documentElement;
      if (svg.nodeName !== "svg") throw new Error("not a picture");
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      chartBox.replaceChildren(document.importNode(svg, true));
    } catch (error) {
      chartBox.replaceChildren(el("p", { class: "meta" }, `The chart could not be drawn: ${error.message}`));
    }
  }

  async function save(routine, on, box) {
    box.disabled = true;
    try {
      const response = await fetch(`/api/profile/routines/${encodeURIComponent(routine)}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ settings: { build_up: on } }),
      });
      if (!response.ok) {
        const data = await response.json().catch(() => ({ error: response.statusText }));
        throw new Error(data.error || response.statusText);
      }
      await listProgressions();
    } catch (error) {
      box.checked = !on;
      box.disabled = false;
      box.closest("li").append(el("p", { class: "error", role: "alert" }, error.message));
    }
  }

  async function listProgressions() {
    try {
      const response = await fetch("/api/progressions", { cache: "no-store" });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      list.replaceChildren(
        ...data.progressions.map((p) => {
          const id = `build-up-${p.routine}`;
          const box = el("input", { type: "checkbox", id, checked: p.build_up, disabled: !canWrite });
          box.addEventListener("change", () => save(p.routine, box.checked, box));
          return el(
            "li",
            {},
            el("label", { for: id }, box, ` Build up gradually: ${p.title}`),
            el("p", { class: "meta" }, p.note),
          );
        }),
      );
    } catch (error) {
      list.replaceChildren(el("li", { class: "meta" }, `The progressions could not be read: ${error.message}`));
    }
  }

  drawChart();
  listProgressions();
  // A session logged on this page rewrites "Your practice": draw again then.
  const history = document.getElementById("history");
  if (history) new MutationObserver(() => drawChart()).observe(history, { childList: true });
})();
