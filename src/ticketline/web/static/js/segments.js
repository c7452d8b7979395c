// Segments: a filter on purchase history, tier, tags and language, previewed,
// saved by code and exported as CSV; and importing customers from a file.
(function () {
  "use strict";
  const api = window.tlApi;
  const PAGE = 50;
  const enc = encodeURIComponent;

  function words(text) {
    return text.split(/[,，;；]/).map((w) => w.trim()).filter(Boolean);
  }
  function fen(yuan) { return yuan === "" || yuan === null ? null : Math.round(Number(yuan) * 100); }
  function whole(value) { return value === "" || value === null ? null : Number(value); }
  function blank() {
    return { routes: "", tiers: [], tags: "", minSpend: "", maxSpend: "", spendDays: "",
      lastAfter: "", lastBefore: "", noTripDays: "", language: "", excludeDnc: true };
  }

  window.tlSegments = function () {
    const choices = JSON.parse(document.getElementById("seg-choices").textContent);
    return {
      choices: choices,
      tiers: [],
      saved: [],
      form: blank(),
      result: null,
      saveCode: "",
      saveName: "",
      dryRun: false,
      imported: null,
      error: "",
      busy: false,

      async init() {
        await this.run(async () => {
          this.tiers = await api("GET", "/api/crm/tiers");
          this.saved = await api("GET", "/api/crm/segments");
        });
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      filter() {
        const f = this.form;
        return {
          routes: words(f.routes), tiers: f.tiers, tags: words(f.tags),
          min_spend_fen: fen(f.minSpend), max_spend_fen: fen(f.maxSpend),
          spend_days: whole(f.spendDays), last_trip_after: f.lastAfter || null,
          last_trip_before: f.lastBefore || null, no_trip_since_days: whole(f.noTripDays),
          language: f.language || null, exclude_do_not_call: f.excludeDnc,
        };
      },
      preview(page) {
        return this.run(async () => {
          this.result = await api("POST", "/api/crm/segments/preview?page=" + page + "&size=" + PAGE,
            this.filter());
        });
      },
      pages() { return this.result ? Math.max(1, Math.ceil(this.result.total / PAGE)) : 1; },
      save() {
        const code = this.saveCode.trim();
        const name = this.saveName.trim();
        if (!code || !name) { this.error = window.TL_TEXT.needCode; return; }
        return this.run(async () => {
          const segment = await api("PUT", "/api/crm/segments/" + enc(code),
            { name: name, filter: this.filter() });
          this.saved = this.saved.filter((s) => s.code !== segment.code).concat([segment]);
        });
      },
      load(segment) {
        const f = segment.filter;
        const yuan = (v) => (v === null || v === undefined ? "" : v / 100);
        this.form = {
          routes: f.routes.join(", "), tiers: f.tiers.slice(), tags: f.tags.join(", "),
          minSpend: yuan(f.min_spend_fen), maxSpend: yuan(f.max_spend_fen),
          spendDays: f.spend_days || "", lastAfter: f.last_trip_after || "",
          lastBefore: f.last_trip_before || "", noTripDays: f.no_trip_since_days || "",
          language: f.language || "", excludeDnc: f.exclude_do_not_call,
        };
        this.saveCode = segment.code;
        this.saveName = segment.name;
        return this.preview(1);
      },
      remove(segment) {
        if (!confirm(window.TL_TEXT.confirmRemove.replace("{name}", segment.name))) return;
        return this.run(async () => {
          await api("DELETE", "/api/crm/segments/" + enc(segment.code));
          this.saved = this.saved.filter((s) => s.code !== segment.code);
        });
      },
      importFile(input) {
        const file = input.files[0];
        if (!file) return;
        return this.run(async () => {
          try {
            this.imported = await window.tlUpload(
              "/api/crm/customers/import?dry_run=" + (this.dryRun ? "true" : "false"), file);
          } finally { input.value = ""; }
        });
      },
      tierName(t) { return document.documentElement.lang === "en" ? t.name_en : t.name_zh; },
      yuan(amount) { return (amount / 100).toFixed(2); },
      day(at) { return at ? new Date(at).toLocaleDateString() : ""; },
    };
  };
})();
