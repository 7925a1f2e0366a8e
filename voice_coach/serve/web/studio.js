"use strict";
// The studio: pick a routine, tune it (its length follows every change), make it on
// the computer with a progress bar, play it, save the settings as the profile's, and
// log the session. Everything comes from this server's JSON API (/api/); settings are
// sent in the command line's words ({"hold": ["Knee hug=60"]}), so the server applies
// them exactly as `voice-coach export` would. Text from the server is only ever set
// as text, never as HTML.
(() => {
  const { h, api } = window.voiceCoach;
  const studio = document.getElementById("studio");
  if (!studio) return;
  const library = document.getElementById("library");
  const panel = document.getElementById("routine");
  const historyBox = document.getElementById("history");
  const UPDATE_AFTER_MS = 300; // typing pauses this long before the length is asked for
  const POLL_MS = 400;
  const MEASURE_POLL_MS = 1500; // the list asks again while lengths are being measured
  // Without the key (read-only), the write buttons are disabled and this says why.
  const canWrite = studio.dataset.canWrite === "true";
  const KEY_NEEDED =
    "To make, save or log, scan the QR code that voice-coach serve shows in its terminal.";

  let current = null; // {name, base: the routine without the page's settings, detail}
  let voices = null; // /api/voices
  let table = null; // /api/settings: every setting's kind, bounds and help, by name

  // A number field's bounds as the settings table declares them.
  function bounds(option) {
    const s = table[option];
    const attrs = { min: s.min_open ? s.min + 0.1 : s.min, max: s.max, title: `${s.help}: ${s.bounds}` };
    return s.kind === "whole" ? { ...attrs, step: 1, inputmode: "numeric" } : attrs;
  }

  // -- a number field's value, checked here as the server would ------------------------
  // The fields are text (a number field turns "abc" into "" and "12abc" into 12 without
  // a word); what is typed is read here and refused beside the field, in the words of
  // the settings table.
  const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

  // What is wrong with a field's text (null: nothing; an empty field means as written).
  function fieldProblem(input) {
    const text = input.value.trim();
    if (text === "") return null;
    const s = table[input.dataset.option];
    if (!NUMBER.test(text)) return `“${text}” is not a number: write digits, like ${s.min_open ? 1 : Math.max(s.min, 1)}`;
    const value = Number(text.replace(",", "."));
    const whole = s.kind === "whole" && !Number.isInteger(value);
    const low = s.min_open ? value <= s.min : value < s.min;
    if (whole || low || value > s.max) return `must be ${s.bounds}, got ${text}`;
    return null;
  }

  // A field's value as the server takes it ("2,5" -> "2.5").
  const fieldValue = (input) => input.value.trim().replace(",", ".");

  function countdowns() {
    const { min, max } = table.countdown;
    return Array.from({ length: max - min + 1 }, (_, i) => min + i).map((n) => [n, n ? `${n} seconds` : "no countdown"]);
  }

  function sides() {
    return [["", "both sides, as written"], ...table.sides.choices.map((side) => [side, `${side} side only`])];
  }
  let asked = 0; // the latest detail request; older answers are dropped
  let timer = 0;
  let making = false;

  // An element: attributes (on* are listeners, true is a bare attribute) and children
  // (strings become text nodes).

  const length = (ms) => {
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  };
  const clock = (ms) => {
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  const seconds = (value) => `${Number(value.toFixed(1))} s`;
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));


  function query(settings) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(settings)) {
      for (const item of [].concat(value)) params.append(name, String(item));
    }
    const text = params.toString();
    return text ? `?${text}` : "";
  }

  // -- the library --------------------------------------------------------------------

  let measuringTimer = 0;

  async function loadLibrary() {
    clearTimeout(measuringTimer);
    try {
      const { routines } = await api("GET", "/api/routines");
      // Lengths not known yet are being measured on the computer: ask again soon.
      if (routines.some((r) => r.measuring)) measuringTimer = setTimeout(loadLibrary, MEASURE_POLL_MS);
      const focused = library.contains(document.activeElement) ? document.activeElement.dataset.name : null;
      library.replaceChildren(
        ...routines.map((r) => {
          const facts = [
            r.total_ms !== null ? length(r.total_ms) : r.measuring ? "length: measuring…" : "length: open it to measure",
            r.exercises ? `${r.exercises} exercise${r.exercises === 1 ? "" : "s"}` : null,
            r.source === "yours" ? "yours" : null,
          ].filter(Boolean);
          return h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "pick",
                "data-name": r.name,
                "aria-controls": "routine",
                "aria-current": current ? String(current.name === r.name) : null,
                onclick: () => pick(r.name),
              },
              h("span", { class: "pick-title" }, r.title),
              h("span", { class: "meta" }, r.error ? `cannot be read: ${r.error}` : facts.join(" · ")),
            ),
            r.description ? h("p", { class: "description" }, r.description) : null,
          );
        }),
      );
      // Listed again while lengths come in: the card in focus keeps it.
      if (focused) library.querySelector(`button.pick[data-name="${CSS.escape(focused)}"]`)?.focus();
    } catch (error) {
      library.replaceChildren(h("li", { role: "alert" }, `The routines could not be listed: ${error.message}`));
    }
    library.removeAttribute("aria-busy");
  }

  async function pick(name) {
    for (const button of library.querySelectorAll("button.pick")) {
      button.setAttribute("aria-current", String(button.dataset.name === name));
    }
    panel.hidden = false;
    panel.replaceChildren(
      h("p", { role: "status", class: "meta" }, "Preparing… the first time, every line is spoken once: this can take a minute."),
    );
    panel.scrollIntoView({ block: "start" }); // it opens above the list: go to it
    try {
      const [detail] = await Promise.all([
        api("GET", `/api/routines/${encodeURIComponent(name)}`),
        voices ? voices : api("GET", "/api/voices").then((v) => (voices = v)),
        table ? table : api("GET", "/api/settings").then((t) => (table = Object.fromEntries(t.settings.map((s) => [s.name, s])))),
      ]);
      current = { name, base: detail, detail };
      buildPanel(detail);
      panel.querySelector("h3").focus();
    } catch (error) {
      panel.replaceChildren(h("p", { role: "alert", class: "error" }, error.message));
    }
  }

  // -- the panel: the routine, its settings and what to do with it ---------------------

  function numberInput(option, label, value, attrs = {}) {
    const id = `set-${option}-${attrs["data-step"] || "all"}`;
    const { min, max, step, ...rest } = attrs; // bounds are checked here (`fieldProblem`)
    return h(
      "p",
      { class: "field" },
      h("label", { for: id }, label),
      h("input", {
        id,
        type: "text",
        inputmode: step === 1 ? "numeric" : "decimal",
        autocomplete: "off",
        spellcheck: "false",
        "data-option": option,
        value,
        ...rest,
      }),
      h("span", { class: "error field-error", id: `${id}-error`, "aria-live": "polite" }),
    );
  }

  function stepItem(step) {
    if (step.kind === "rest") {
      return h("li", { class: "rest" }, h("p", { "data-rest": step.number }, `Rest ${seconds(step.rest_s)}`));
    }
    const [first] = step.sides;
    const sides = step.sides.length === 2 ? `both sides, ${first} first` : first ? `${first} side` : null;
    const number = { "data-step": step.number };
    return h(
      "li",
      { class: "step" },
      h("h4", {}, `${step.number}. ${step.name}`),
      sides ? h("p", { class: "meta" }, sides) : null,
      h(
        "div",
        { class: "fields" },
        step.paced
          ? h("p", { class: "meta" }, `A ${step.paced}, paced by its own beats: ${seconds(step.hold_s)}.`)
          : numberInput("hold", "Hold, seconds", step.base_hold_s, { ...bounds("hold"), ...number }),
        numberInput("reps", "Reps", step.reps, { ...bounds("reps"), ...number }),
      ),
      h(
        "details",
        {},
        h("summary", {}, "Settle and recover"),
        h(
          "div",
          { class: "fields" },
          numberInput("settle", "Settle into position, seconds", step.settle_s, { ...bounds("settle"), ...number }),
          numberInput("recover", "Quiet after the release, seconds", step.recover_s, { ...bounds("recover"), ...number }),
        ),
      ),
      h("p", { class: "meta hint", "data-hint": step.number }, hint(step)),
    );
  }

  // What a step's values say beyond the inputs: where they come from, and the hold as
  // played when a scale stretches it.
  function hint(step) {
    if (step.paced) return "";
    const from = step.from.hold || "";
    const words = from.includes("progression")
      ? "from the progression"
      : from.includes("command line")
        ? "changed here"
        : from.includes("profile")
          ? "from your settings"
          : "as written";
    const played = Math.abs(step.hold_s - step.base_hold_s) > 0.05 ? `, plays ${seconds(step.hold_s)}` : "";
    return `Hold ${words}${played}.`;
  }

  function select(option, label, choices, chosen) {
    const id = `set-${option}`;
    if (!choices.some(([value]) => String(value) === String(chosen))) choices = [[chosen, String(chosen)], ...choices];
    return h(
      "p",
      { class: "field" },
      h("label", { for: id }, label),
      h(
        "select",
        { id, "data-option": option },
        choices.map(([value, text]) => h("option", { value, selected: String(value) === String(chosen) }, text)),
      ),
      h("span", { class: "error field-error", id: `${id}-error`, "aria-live": "polite" }),
    );
  }

  function checkbox(option, label, checked) {
    const id = `set-${option}`;
    return h(
      "p",
      { class: "field check" },
      h("input", { id, type: "checkbox", "data-option": option, checked, disabled: !checked }),
      h("label", { for: id }, checked ? label : `${label} (off in the script or your settings)`),
    );
  }

  function engineChoices() {
    const engines = (voices ? voices.engines : []).filter((e) => e.available);
    return engines.map((e) => [e.name, e.name === voices.default ? `${e.name} (default)` : e.name]);
  }

  function voiceChoices(engine) {
    const found = voices ? voices.engines.find((e) => e.name === engine) : null;
    const list = found ? found.voices : [];
    return list.map((v) => [v.id, v.name === v.id ? v.id : `${v.name} (${v.languages[0] || v.id})`]);
  }

  function buildPanel(detail) {
    const cues = detail.cues;
    const form = h(
      "form",
      { id: "tune", novalidate: true, oninput: changed, onchange: changed, onsubmit: (e) => e.preventDefault() },
      // Inside the form, so Make's bar (sticky within it) is in reach from the panel's top.
      detail.progression ? h("p", { class: "meta", id: "progression-note" }, detail.progression) : null,
      h("fieldset", {}, h("legend", {}, "Steps"), h("ol", { class: "steps" }, detail.steps.map((s) => stepItem(s)))),
      h(
        "fieldset",
        {},
        h("legend", {}, "Whole routine"),
        h(
          "div",
          { class: "fields" },
          numberInput("scale", "Holds and rests ×", detail.scale, bounds("scale")),
          numberInput("rest", "Every rest, seconds", "", { ...bounds("rest"), placeholder: "as written" }),
          select("countdown", "Count down the last", countdowns(), cues.countdown),
          cues.sided ? select("sides", "One-sided stretches", sides(), "") : null,
        ),
        checkbox("chimes", "Chimes at the start and end of each hold", cues.chimes),
        checkbox("during", "Lines spoken during holds", cues.during),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Voice"),
        h(
          "div",
          { class: "fields" },
          select("engine", "Engine", engineChoices(), detail.voice.engine),
          select("voice", "Voice", voiceChoices(detail.voice.engine), detail.voice.voice),
          numberInput("rate", "Speaking rate, words a minute", detail.voice.rate, { ...bounds("rate"), step: 5 }),
        ),
        detail.voice.note ? h("p", { class: "meta" }, detail.voice.note) : null,
      ),
      logAnswers(),
      h("p", { id: "tune-error", class: "error", role: "alert" }),
      // Make stays in reach while the fields scroll by (it sticks to the screen's foot).
      h(
        "div",
        { class: "make-bar" },
        h("button", { type: "button", id: "make", class: "button", onclick: make, disabled: !canWrite }, "Make MP3"),
        h(
          "div",
          { id: "making", class: "making", hidden: true },
          h("label", { for: "make-progress", id: "make-label" }, "Making…"),
          h("progress", { id: "make-progress", max: 1, value: 0 }),
        ),
        canWrite ? null : h("p", { id: "key-needed", class: "key-needed" }, KEY_NEEDED),
      ),
      h(
        "p",
        { class: "actions" },
        h("button", { type: "button", id: "save", class: "button secondary", onclick: save, disabled: !canWrite }, "Save as my settings"),
        h("button", { type: "button", id: "undo", class: "button secondary", onclick: undo }, "Undo changes"),
        h("button", { type: "button", id: "done", class: "button secondary", onclick: logDone, disabled: !canWrite }, "I did this"),
      ),
      h("p", { id: "action-error", class: "error", role: "alert" }),
      h("p", { id: "studio-status", class: "meta", role: "status" }),
      h("div", { id: "made" }),
    );
    panel.replaceChildren(
      ...[
        h("h3", { tabindex: -1, id: "routine-title" }, detail.title),
        h("p", { class: "other-routines" }, h("a", { href: "#library" }, "Pick another routine ↓")),
        detail.description ? h("p", { class: "description" }, detail.description) : null,
        h("p", { class: "length", id: "length", "aria-live": "polite" }),
        h("div", { id: "warnings" }),
      h(
        "a",
        { href: `/api/routines/${encodeURIComponent(detail.name)}/timeline.png`, id: "picture-link", class: "picture-link" },
          h("img", { class: "picture", id: "picture", alt: "", width: 1000, height: 400 }),
        ),
        form,
      ].filter(Boolean),
    );
    showDetail(detail);
  }

  // -- the page's settings, in the command line's words ----------------------------------

  function selector(step) {
    const same = current.base.steps.filter((s) => s.kind === "exercise" && s.name.toLowerCase() === step.name.toLowerCase());
    return same.length === 1 ? step.name : String(step.number);
  }

  function pageSettings() {
    const base = current.base;
    const out = {};
    const add = (option, value) => (out[option] = [...(out[option] || []), value]);
    for (const input of panel.querySelectorAll("input[data-step]")) {
      const step = base.steps[Number(input.dataset.step) - 1];
      const option = input.dataset.option;
      const was = { hold: step.base_hold_s, reps: step.reps, settle: step.settle_s, recover: step.recover_s }[option];
      const text = fieldValue(input);
      if (text !== "" && Number(text) !== was) add(option, `${selector(step)}=${text}`);
    }
    const value = (option) => {
      const el = panel.querySelector(`[data-option="${option}"]:not([data-step])`);
      return el ? fieldValue(el) : "";
    };
    if (value("scale") !== "" && Number(value("scale")) !== base.scale) out.scale = value("scale");
    if (value("rest") !== "") out.rest = value("rest");
    if (Number(value("countdown")) !== base.cues.countdown) out.countdown = value("countdown");
    if (value("sides")) out.sides = value("sides");
    for (const option of ["chimes", "during"]) {
      const box = panel.querySelector(`[data-option="${option}"]`);
      if (base.cues[option] && !box.checked) out[option] = false;
    }
    if (value("engine") && value("engine") !== base.voice.engine) out.engine = value("engine");
    if (value("voice") && value("voice") !== base.voice.voice) out.voice = value("voice");
    if (value("rate") !== "" && Number(value("rate")) !== base.voice.rate) out.rate = value("rate");
    return out;
  }

  function changed(event) {
    if (event && event.target && event.target.dataset.option === "engine") {
      const voice = panel.querySelector('[data-option="voice"]');
      const engine = event.target.value;
      const chosen = engine === current.base.voice.engine ? current.base.voice.voice : null;
      voice.replaceChildren(...voiceChoices(engine).map(([v, text]) => h("option", { value: v, selected: v === chosen }, text)));
      if (!chosen) voice.prepend(h("option", { value: "", selected: true }, "the engine's default"));
    }
    clearTimeout(timer);
    timer = setTimeout(update, UPDATE_AFTER_MS);
  }

  async function update() {
    const mine = ++asked;
    if (!checkFields()) return;
    const settings = pageSettings();
    try {
      const detail = await api("GET", `/api/routines/${encodeURIComponent(current.name)}${query(settings)}`);
      if (mine !== asked) return;
      current.detail = detail;
      showError(null);
      showDetail(detail);
    } catch (error) {
      if (mine !== asked) return;
      showError(error);
    }
  }

  function showDetail(detail) {
    const n = detail.chapters.length;
    const summary = detail.summary ? ` · ${detail.summary}` : "";
    panel.querySelector("#length").textContent = `Length ${length(detail.total_ms)} · ${n} chapters${summary}`;
    const picture = panel.querySelector("#picture");
    const address = `/api/routines/${encodeURIComponent(detail.name)}/timeline.png${query(pageSettings())}`;
    picture.src = address;
    picture.alt = `Timeline of ${detail.title}, ${length(detail.total_ms)}: ${detail.chapters.map((c) => c.title).join(", ")}`;
    panel.querySelector("#picture-link").href = address;
    for (const step of detail.steps) {
      const hintEl = panel.querySelector(`[data-hint="${step.number}"]`);
      if (hintEl) hintEl.textContent = hint(step);
      const rest = panel.querySelector(`[data-rest="${step.number}"]`);
      if (rest) rest.textContent = `Rest ${seconds(step.rest_s)}`;
    }
    showWarnings(detail.warnings);
  }

  // Cues that do not fit their hold: one sentence, the list behind it.
  function showWarnings(warnings) {
    const box = panel.querySelector("#warnings");
    if (!warnings.length) return box.replaceChildren();
    const n = warnings.length;
    box.replaceChildren(
      h(
        "details",
        { class: "warning" },
        h("summary", {}, `Note: ${n} cue${n === 1 ? " is" : "s are"} left out: ${n === 1 ? "it does" : "they do"} not fit.`),
        h("ul", {}, warnings.map((w) => h("li", {}, w))),
      ),
    );
  }

  // -- errors, each beside the field it is about -------------------------------------

  // The name of the step a field belongs to, for messages ("Knee hug: ...").
  function stepName(el) {
    const step = el && el.dataset.step ? current.base.steps[Number(el.dataset.step) - 1] : null;
    return step ? step.name : "";
  }

  // Mark one field wrong, with its message beside it; null clears it.
  function markField(el, message) {
    const box = panel.querySelector(`#${CSS.escape(el.id)}-error`);
    if (message) {
      const words = el.dataset.step ? `${label(el)} ${message}` : message;
      const name = stepName(el);
      if (box) box.textContent = name ? `${name}: ${words}` : words;
      el.setAttribute("aria-invalid", "true");
      if (box) el.setAttribute("aria-describedby", box.id);
    } else {
      if (box) box.textContent = "";
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
  }

  const label = (el) => (el.labels[0] ? el.labels[0].textContent.split(",")[0].toLowerCase() : el.dataset.option);

  // Check every number field here; false (and the length says why) when one is wrong.
  function checkFields() {
    let first = null;
    for (const input of panel.querySelectorAll("input[data-option]:not([type=checkbox])")) {
      const problem = fieldProblem(input);
      markField(input, problem);
      if (problem && !first) first = input;
    }
    panel.querySelector("#tune-error").textContent = "";
    if (first) {
      const name = stepName(first);
      const what = `${name ? `${name}’s ` : ""}${label(first)}`;
      showLength(`Length: not known until the ${what} is fixed.`);
      const hintEl = first.dataset.step ? panel.querySelector(`[data-hint="${first.dataset.step}"]`) : null;
      if (hintEl) hintEl.textContent = `The length follows once the ${label(first)} is fixed.`;
    }
    return !first;
  }

  // The number of the step a request's selector names ("Knee hug" or "7").
  function stepNumber(selector) {
    if (/^\d+$/.test(selector)) return Number(selector);
    const found = current.base.steps.find((s) => s.kind === "exercise" && s.name.toLowerCase() === selector.toLowerCase());
    return found ? found.number : null;
  }

  // An error from the server: each problem beside its field (only that field marked);
  // what belongs to no field of this form under it.
  function showError(error) {
    const box = panel.querySelector("#tune-error");
    for (const el of panel.querySelectorAll("[aria-invalid]")) markField(el, null);
    if (!box) return;
    box.textContent = "";
    if (!error) return;
    const problems = error.problems || [{ field: error.field, step: null, message: error.message }];
    const rest = [];
    for (const p of problems) {
      const option = p.field ? CSS.escape(p.field.replace(/^no-/, "")) : null;
      const number = p.step ? stepNumber(p.step) : null;
      const el = !option
        ? null
        : number
          ? panel.querySelector(`[data-option="${option}"][data-step="${number}"]`)
          : panel.querySelector(`[data-option="${option}"]:not([data-step])`);
      if (el && el.type !== "checkbox") markField(el, p.message);
      else rest.push(p.message);
    }
    box.textContent = rest.join(" ");
    if (problems.length) showLength("Length: not known until the marked value is fixed.");
  }

  function showLength(text) {
    panel.querySelector("#length").textContent = text;
    panel.querySelector("#warnings").replaceChildren();
  }

  // What a write could not do (the key, a failed render): kept until the next write,
  // not wiped by the length's next update.
  function actionError(error) {
    const box = panel.querySelector("#action-error");
    if (error && error.field && error.field !== "key" && error.field !== "routine") {
      showError(error);
      box.textContent = "Not done: fix the marked value first.";
      return;
    }
    box.textContent = error ? error.message : "";
  }

  function status(text) {
    panel.querySelector("#studio-status").textContent = text;
  }

  // -- make, save, undo, log ------------------------------------------------------------

  // What the progress bar says; "waiting" comes only while another render is ahead.
  function stage(render) {
    if (render.stage === "waiting") {
      const n = render.ahead || 1;
      return `Waiting for ${n === 1 ? "another render" : `${n} other renders`}`;
    }
    return { queued: "Starting", speech: "Making the voice", encoding: "Encoding", done: "Done" }[render.stage] || "Making";
  }

  async function make() {
    if (making) return;
    making = true;
    const box = panel.querySelector("#making");
    const bar = panel.querySelector("#make-progress");
    const label = panel.querySelector("#make-label");
    if (!checkFields()) {
      panel.querySelector("[aria-invalid]").focus();
      making = false;
      return;
    }
    box.hidden = false;
    status("");
    actionError(null);
    try {
      let render = await api("POST", "/api/exports", { routine: current.name, settings: pageSettings() });
      while (render.state === "queued" || render.state === "running") {
        bar.value = render.progress;
        label.textContent = `${stage(render)}… ${Math.round(render.progress * 100)}%`;
        await sleep(POLL_MS);
        render = await api("GET", `/api/exports/${render.id}`);
      }
      if (render.state === "failed") throw new Error(`The render failed: ${render.error}`);
      bar.value = 1;
      label.textContent = "Made.";
      showMade(render);
      refreshExports();
    } catch (error) {
      actionError(error);
      label.textContent = "Not made.";
    } finally {
      making = false;
    }
  }

  function showMade(render) {
    const name = render.file.split("/").pop();
    const article = h(
      "article",
      { class: "routine made", "data-title": render.title, "data-cover": render.cover },
      h("h4", { class: "title", tabindex: -1 }, `Made: ${render.title}`),
      h(
        "p",
        { class: "meta" },
        `${length(render.duration_ms)} · ${render.chapters.length} chapters · ${name} · also in the podcast feed`,
      ),
      h("audio", { controls: true, preload: "metadata", src: render.url }),
      h(
        "ol",
        { class: "chapters", "aria-label": `Chapters of ${render.title}` },
        render.chapters.map((c) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", "data-start": c.start_ms / 1000, "data-title": c.title },
              h("span", { class: "time" }, clock(c.start_ms)),
              h("span", {}, c.title),
            ),
          ),
        ),
      ),
      h("p", { class: "links" }, h("a", { class: "button", href: render.url, download: name }, "Download")),
    );
    panel.querySelector("#made").replaceChildren(article);
    // On a phone the player lands below the screen: bring it up.
    article.scrollIntoView({ block: "start" });
    article.querySelector("h4").focus({ preventScroll: true });
  }

  // The page's list of exports and its count, as the server renders them now: the
  // new file shows without a reload.
  async function refreshExports() {
    try {
      const response = await fetch("/", { headers: { Accept: "text/html" } });
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["exports", "export-count"]) {
        const now = document.getElementById(id);
        const then = fresh.getElementById(id);
        if (now && then) now.replaceChildren(...[...then.childNodes].map((n) => document.importNode(n, true)));
      }
    } catch {
      // The list stays as it was; a reload shows the file.
    }
  }

  async function save() {
    if (!checkFields()) return;
    actionError(null);
    try {
      await api("PUT", `/api/profile/routines/${encodeURIComponent(current.name)}`, { settings: pageSettings() });
      // What the page set is now the profile's: the new starting point.
      current.base = await api("GET", `/api/routines/${encodeURIComponent(current.name)}`);
      showError(null);
      status(`Saved as your settings for ${current.base.title}; \`voice-coach settings ${current.name}\` shows them too.`);
      update();
      loadLibrary(); // its length follows the saved settings
    } catch (error) {
      actionError(error);
    }
  }

  function undo() {
    current.detail = current.base;
    buildPanel(current.base);
    panel.querySelector("#undo").focus();
    status("Back to the script and your saved settings.");
  }

  // What "I did this" records beside the session: the pain now (0-10) and a note, both optional.
  function logAnswers() {
    return h(
      "fieldset",
      { id: "log-answers" },
      h("legend", {}, "How did it go?"),
      h(
        "div",
        { class: "fields" },
        h(
          "p",
          { class: "field" },
          h("label", { for: "log-pain" }, "Pain now, 0 (none) to 10"),
          h("input", { id: "log-pain", type: "number", inputmode: "numeric", min: 0, max: 10, step: 1 }),
        ),
        h("p", { class: "field" }, h("label", { for: "log-note" }, "Note"), h("textarea", { id: "log-note", maxlength: 500, rows: 2 })),
      ),
    );
  }

  function answers() {
    const given = {};
    const pain = panel.querySelector("#log-pain");
    if (pain.value.trim() !== "") given.pain = Number(pain.value);
    else if (pain.validity.badInput) given.pain = "not a number";
    const note = panel.querySelector("#log-note").value.trim();
    if (note) given.note = note;
    return given;
  }

  async function logDone() {
    actionError(null);
    try {
      const minutes = Math.round((current.detail.total_ms / 60000) * 10) / 10;
      const given = answers();
      const done = await api("POST", "/api/history", { routine: current.name, minutes, settings: pageSettings(), ...given });
      const pain = done.session.pain_after === null ? "" : ` Pain ${done.session.pain_after}.`;
      showError(null);
      status(`Logged: ${current.detail.title}, ${minutes} min.${pain} ${streak(done.history.streak_days)}.`);
      showHistory(done.history);
    } catch (error) {
      actionError(error);
    }
  }

  // -- the practice history ---------------------------------------------------------------

  const streak = (days) => `Streak: ${days} day${days === 1 ? "" : "s"}`;

  function showHistory(history) {
    const weeks = history.minutes_per_week.slice(-8);
    const peak = Math.max(1, ...weeks.map((w) => w.minutes));
    const day = (text) => new Date(`${text}T12:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric" });
    historyBox.replaceChildren(
      h("p", { class: "streak" }, streak(history.streak_days)),
      h("h3", { id: "weeks-title" }, "Minutes per week"),
      h(
        "ol",
        { class: "weeks", "aria-labelledby": "weeks-title" },
        weeks.map((w) =>
          h(
            "li",
            {},
            h("span", { class: "week" }, `from ${day(w.week)}`),
            h("meter", { min: 0, max: peak, value: w.minutes, "aria-hidden": "true" }),
            h("span", { class: "minutes" }, `${Math.round(w.minutes)} min`),
          ),
        ),
      ),
      history.sessions.length
        ? h(
            "details",
            {},
            h("summary", {}, "Recent sessions"),
            h(
              "ul",
              { class: "sessions" },
              history.sessions.slice(0, 10).map((s) => sessionItem(s, day)),
            ),
          )
        : h("p", { class: "meta" }, "No sessions yet: play a routine, then press “I did this”."),
    );
  }

  // One recent session: when, what, how long, its pain and note; with the key, a button
  // that corrects them in place (PATCH, as `voice-coach amend`).
  function sessionItem(s, day) {
    const how = s.source === "log" ? " (logged)" : "";
    const when = day(s.started_at.slice(0, 10));
    const pains = [s.pain_before, s.pain_after].map((p) => (p === null ? "–" : p));
    const pain = s.pain_before === null && s.pain_after === null ? "" : ` · pain ${pains[0]} → ${pains[1]}`;
    const item = h(
      "li",
      { "data-session": s.id },
      `${when}: ${s.routine_title}, ${Math.round(s.duration_s / 60)} min${how}${pain}`,
      s.note ? h("span", { class: "meta" }, ` · ${s.note}`) : null,
    );
    if (canWrite) {
      const button = h("button", { type: "button", class: "button secondary", "aria-label": `Correct the session of ${when}` }, "Correct");
      button.addEventListener("click", () => item.replaceWith(correctForm(s, item)));
      item.append(" ", button);
    }
    return item;
  }

  function correctForm(s, item) {
    const field = (id, label, value) =>
      h(
        "p",
        { class: "field" },
        h("label", { for: `${id}-${s.id}` }, label),
        h("input", { id: `${id}-${s.id}`, type: "number", inputmode: "numeric", min: 0, max: 10, step: 1, value: value ?? "" }),
      );
    const note = h("textarea", { id: `fix-note-${s.id}`, maxlength: 500, rows: 2 });
    note.value = s.note;
    const problem = h("p", { class: "error", role: "alert", hidden: true });
    const form = h(
      "li",
      { "data-session": s.id },
      h(
        "form",
        { class: "correct", novalidate: true }, // the server's message says what is allowed
        h("div", { class: "fields" }, field("fix-before", "Pain before, 0-10", s.pain_before), field("fix-after", "Pain after, 0-10", s.pain_after)),
        h("p", { class: "field" }, h("label", { for: note.id }, "Note"), note),
        problem,
        h("button", { type: "submit", class: "button secondary" }, "Save"),
        " ",
        h("button", { type: "button", class: "button secondary", onclick: () => form.replaceWith(item) }, "Cancel"),
      ),
    );
    form.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      // Only what was changed is sent; an emptied rating stays as it was (amend keeps it).
      const given = {};
      const read = (id, name, was) => {
        const input = form.querySelector(`#${id}-${s.id}`);
        if (input.validity.badInput) given[name] = "not a number";
        else if (input.value.trim() !== "" && Number(input.value) !== was) given[name] = Number(input.value);
      };
      read("fix-before", "pain_before", s.pain_before);
      read("fix-after", "pain", s.pain_after);
      if (note.value.trim() !== s.note) given.note = note.value.trim();
      if (!Object.keys(given).length) return form.replaceWith(item);
      try {
        await api("PATCH", `/api/history/${s.id}`, given);
        await loadHistory();
      } catch (error) {
        problem.hidden = false;
        problem.textContent = error.message;
      }
    });
    return form;
  }

  async function loadHistory() {
    try {
      showHistory(await api("GET", "/api/history"));
    } catch (error) {
      historyBox.replaceChildren(h("p", { class: "meta" }, `The history could not be read: ${error.message}`));
    }
  }

  // A routine added on this page (share.js) joins the library at once.
  document.addEventListener("voice-coach:routines-changed", () => loadLibrary());
  loadLibrary();
  loadHistory();
})();
