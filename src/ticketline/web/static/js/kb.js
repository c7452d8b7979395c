// Knowledge base: search (Chinese or English), browse by category, read an article
// rendered from Markdown by the server, and for editors write a new version.
(function () {
  "use strict";
  const api = window.tlApi;
  const PAGE = 30;
  const enc = encodeURIComponent;

  function draftOf(article) {
    if (!article) {
      return { id: null, title: "", category: "", language: "zh", tags: "", body: "",
        work_order_types: [], valid_from: "", valid_until: "" };
    }
    return { id: article.id, title: article.title, category: article.category,
      language: article.language, tags: article.tags.join(", "), body: article.body,
      work_order_types: article.work_order_types.slice(),
      valid_from: article.valid_from || "", valid_until: article.valid_until || "" };
  }

  window.tlKnowledge = function () {
    const choices = JSON.parse(document.getElementById("kb-choices").textContent);
    return {
      choices: choices,
      query: "",
      language: "",
      category: "",
      categories: [],
      articles: [],
      total: 0,
      page: 1,
      hits: null,
      article: null,
      versions: [],
      draft: null,
      error: "",
      busy: false,
      latest: window.tlLatest(),

      async init() {
        const params = new URLSearchParams(location.search);
        await this.browse(1);
        if (params.get("q")) { this.query = params.get("q"); await this.find(); }
        if (params.get("id")) await this.read(params.get("id"));
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      browse(page) {
        const query = new URLSearchParams({ page: page, size: PAGE });
        if (this.category) query.set("category", this.category);
        if (this.language) query.set("language", this.language);
        return this.latest("list", () => api("GET", "/api/kb/articles?" + query), (found) => {
          this.articles = found.items;
          this.categories = found.categories;
          this.total = found.total;
          this.page = found.page;
          this.hits = null;
        });
      },
      pages() { return Math.max(1, Math.ceil(this.total / PAGE)); },
      find() {
        const q = this.query.trim();
        if (!q) { this.error = window.TL_TEXT.emptyQuery; return; }
        const query = new URLSearchParams({ q: q, limit: 20 });
        if (this.language) query.set("language", this.language);
        return this.latest("list", () => api("GET", "/api/kb/search?" + query),
          (hits) => { this.hits = hits; });
      },
      read(id) {
        return this.latest("record", () => api("GET", "/api/kb/articles/" + enc(id)), (article) => {
          this.article = article;
          this.versions = [];
          this.draft = null;
          history.replaceState(null, "", "/kb?id=" + enc(id));
        });
      },
      history() {
        return this.run(async () => {
          this.versions = await api("GET", "/api/kb/articles/" + enc(this.article.id) + "/versions");
        });
      },
      edit(article) { this.draft = draftOf(article); this.error = ""; },
      save() {
        const d = this.draft;
        if (!d.title.trim() || !d.category.trim() || !d.body.trim()) {
          this.error = window.TL_TEXT.needFields;
          return;
        }
        return this.run(async () => {
          const body = { title: d.title, category: d.category.trim(), language: d.language,
            body: d.body, work_order_types: d.work_order_types,
            tags: d.tags.split(/[,，]/).map((t) => t.trim()).filter((t) => t),
            valid_from: d.valid_from || null, valid_until: d.valid_until || null };
          const path = d.id ? "/api/kb/articles/" + enc(d.id) : "/api/kb/articles";
          this.article = await api(d.id ? "PUT" : "POST", path, body);
          this.draft = null;
          this.versions = [];
          history.replaceState(null, "", "/kb?id=" + enc(this.article.id));
        }).then(() => this.error ? null : this.refreshList());
      },
      refreshList() {
        const page = this.page;
        return this.browse(page);
      },
      valid(a) {
        const today = new Date().toISOString().slice(0, 10);
        return (!a.valid_from || a.valid_from <= today) && (!a.valid_until || a.valid_until >= today);
      },
      validity(a) {
        if (!a.valid_from && !a.valid_until) return window.TL_TEXT.always;
        return (a.valid_from || "…") + " – " + (a.valid_until || "…");
      },
      when(at) { return at ? new Date(at).toLocaleString() : ""; },
    };
  };
})();
