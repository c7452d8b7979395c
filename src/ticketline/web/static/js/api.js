// One call to the API with the session's CSRF token; a refusal throws an Error
// carrying the server's message (which names the field or the problem).
(function () {
  "use strict";
  async function answer(response) {
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const message = data && data.message ? data.message : response.statusText;
      throw new Error(message);
    }
    return data;
  }

  window.tlApi = async function (method, path, body) {
    return answer(await fetch(path, {
      method: method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
  };

  // Reads the user asks for (a search, opening a record) are never dropped while another
  // request is under way, unlike writes: each kind of read keeps only its latest answer, so
  // a slow older one cannot overwrite it. Use as a component method: `latest: tlLatest()`,
  // then `this.latest("record", () => api(...), (value) => { ... })`.
  window.tlLatest = function () {
    const asked = {};
    return async function (kind, load, apply) {
      const ticket = (asked[kind] = (asked[kind] || 0) + 1);
      this.error = "";
      try {
        const value = await load();
        if (asked[kind] === ticket) apply(value);
      } catch (e) {
        if (asked[kind] === ticket) this.error = e.message;
      }
    };
  };

  // A file as the multipart field `file` (the browser writes the boundary).
  window.tlUpload = async function (path, file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return answer(await fetch(path, {
      method: "POST",
      headers: { "X-CSRF-Token": document.body.dataset.csrf },
      body: form,
    }));
  };
})();
