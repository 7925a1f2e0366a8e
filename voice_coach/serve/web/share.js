"use strict";
// Share, print and add: every routine with a "share" view (QR codes and links to its
// script, its MP3 and this page) and a "print" view (its one-page card); and "Add a
// routine": a file from the phone (one of our scripts, or another tool's: w2a, apg,
// just_another_workout_timer, OpenHIIT), sent as it is to POST /api/routines, which
// checks it like `voice-coach validate` and writes it only when it is valid. Its
// problems are listed beside the form, by line. Text from the server is only ever set
// as text, never as HTML.
(() => {
  const { h, api } = window.voiceCoach;
  const getJson = (path) => api("GET", path);
  const section = document.getElementById("share");
  if (!section) return;
  const list = document.getElementById("share-list");
  const form = document.getElementById("add-form");
  const fileInput = document.getElementById("add-file");
  const nameInput = document.getElementById("add-name");
  const result = document.getElementById("add-result");
  const MAX_BYTES = 256 * 1024;



  // -- every routine, with share and print --------------------------------------------

  async function loadList(fresh = []) {
    list.setAttribute("aria-busy", "true");
    try {
      const { routines } = await getJson("/api/routines");
      list.replaceChildren(...routines.map((r) => item(r, fresh.includes(r.name))));
    } catch (error) {
      list.replaceChildren(h("li", { class: "error" }, `The routines could not be listed: ${error.message}`));
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function item(routine, fresh) {
    const name = encodeURIComponent(routine.name);
    const view = h("div", { class: "share-view", hidden: true });
    const shareButton = h(
      "button",
      { type: "button", class: "button secondary", "aria-expanded": "false", onclick: () => toggle(routine, view, shareButton) },
      "Share",
    );
    return h(
      "li",
      { class: fresh ? "share-item fresh" : "share-item", "data-routine": routine.name },
      h("span", { class: "share-title" }, routine.title || routine.name, fresh ? h("span", { class: "badge" }, " added") : null),
      h(
        "span",
        { class: "share-actions" },
        shareButton,
        h("a", { class: "button secondary", href: `/api/routines/${name}/card`, target: "_blank", rel: "noopener" }, "Print"),
      ),
      view,
    );
  }

  async function toggle(routine, view, button) {
    const open = view.hidden;
    view.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (!open || view.dataset.loaded) return;
    view.replaceChildren(h("p", { class: "meta" }, "…"));
    try {
      const share = await getJson(`/api/routines/${encodeURIComponent(routine.name)}/share`);
      view.dataset.loaded = "true";
      view.replaceChildren(...shareView(share));
    } catch (error) {
      view.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  function shareView(share) {
    const { links, qr } = share;
    const code = (kind, label) =>
      qr[kind] ? h("figure", { class: `share-qr ${kind}` }, h("img", { src: qr[kind], alt: `QR code: ${label}` }), h("figcaption", {}, label)) : null;
    return [
      h("div", { class: "share-codes" }, code("page", "This page"), code("script", "The script"), code("mp3", "The MP3")),
      h(
        "p",
        { class: "links" },
        h("a", { class: "button", href: links.script, download: `${share.routine}.yaml` }, "Download the script"),
        links.mp3
          ? h("a", { class: "button", href: links.mp3, download: true }, "Download the MP3")
          : h("span", { class: "meta" }, "No MP3 of it yet: make one above."),
        h("a", { class: "button secondary", href: links.page }, "Open the page"),
        h("a", { class: "button secondary", href: links.card, target: "_blank", rel: "noopener" }, "Print its card"),
      ),
    ];
  }

  // -- add a routine -------------------------------------------------------------------

  // What the form last said, and how it ended: "checking", "added" or "refused".
  function show(state, ...children) {
    result.dataset.state = state;
    result.replaceChildren(...children);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      show("refused", h("p", { class: "error" }, "Choose a file first."));
      return;
    }
    if (file.size > MAX_BYTES) {
      show("refused", h("p", { class: "error" }, `${file.name} is ${Math.round(file.size / 1024)} KB; routines up to 256 KB are taken.`));
      return;
    }
    const params = new URLSearchParams({ file: file.name });
    if (nameInput.value.trim()) params.set("name", nameInput.value.trim());
    show("checking", h("p", { class: "meta" }, `Checking ${file.name}…`));
    let response, data;
    try {
      response = await fetch(`/api/routines?${params}`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream", Accept: "application/json" },
        body: await file.arrayBuffer(),
      });
      data = await response.json().catch(() => ({ error: response.statusText }));
    } catch (error) {
      show("refused", h("p", { class: "error" }, `Not sent: ${error.message}`));
      return;
    }
    if (response.ok) {
      const added = data.routines.map((r) => r.name);
      const notes = data.routines.flatMap((r) => r.notes);
      form.reset();
      await loadList(added);
      show(
        "added",
        h("p", { class: "added", role: "status" }, `Added: ${data.routines.map((r) => `${r.title} (${r.name})`).join(", ")}.`),
        notes.length ? h("p", { class: "meta" }, "Not carried over:") : null,
        notes.length ? h("ul", { class: "notes" }, ...notes.map((n) => h("li", {}, n.text))) : null,
      );
      document.dispatchEvent(new CustomEvent("voice-coach:routines-changed", { detail: { added } }));
      return;
    }
    const problems = data.problems || [];
    show(
      "refused",
      h("p", { class: "error", role: "alert" }, data.error || response.statusText),
      problems.length
        ? h(
            "ol",
            { class: "problems" },
            ...problems.map((p) => h("li", {}, p.line ? h("span", { class: "line" }, `line ${p.line}: `) : null, p.message)),
          )
        : null,
    );
  });

  loadList();
})();
