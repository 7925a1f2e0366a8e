"use strict";
// What every script of the page shares: `h` builds an element (text from the server is
// only ever set as text, never as HTML) and `api` calls this server's JSON API,
// throwing its error message with the field (and problems) it names.
window.voiceCoach = Object.freeze({
  h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === "function") el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  },

  async api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({ error: response.statusText, field: null }));
    if (!response.ok) {
      const error = new Error(data.error || response.statusText);
      error.field = data.field;
      error.problems = data.problems;
      throw error;
    }
    return data;
  },
});
