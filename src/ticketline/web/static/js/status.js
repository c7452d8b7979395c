// The customer's status page: a work order by code and phone, and the rating
// once it is resolved (the link in the SMS opens this page with the code filled in).
(function () {
  "use strict";
  const api = window.tlApi;

  window.tlStatus = function () {
    const params = new URLSearchParams(location.search);
    return {
      code: params.get("code") || "",
      phone: "",
      found: null,
      score: 0,
      comment: "",
      rated: false,
      error: "",
      busy: false,

      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      look() {
        const code = this.code.trim().toUpperCase();
        const phone = this.phone.trim();
        if (!code || !phone) { this.error = window.TL_TEXT.needBoth; return; }
        return this.run(async () => {
          this.found = null;
          const query = new URLSearchParams({ code: code, phone: phone });
          this.found = await api("GET", "/api/public/workorders/status?" + query);
          this.rated = false;
        });
      },
      rateable() { return this.found && ["resolved", "closed"].includes(this.found.state); },
      rate() {
        return this.run(async () => {
          await api("POST", "/api/public/workorders/rating", {
            code: this.found.code, phone: this.phone.trim(), score: this.score, comment: this.comment.trim(),
          });
          this.rated = true;
        });
      },
      label(state) { return window.TL_TEXT.labels[state] || state; },
      when(at) { return at ? new Date(at).toLocaleString() : ""; },
    };
  };
})();
