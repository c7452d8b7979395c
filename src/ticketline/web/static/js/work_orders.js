// Work orders: a list with filters (a department's queue, my work, the overdue list),
// a work order's detail with its history, and the moves the state machine allows.
(function () {
  "use strict";
  const api = window.tlApi;
  const PAGE = 25;
  const enc = encodeURIComponent;

  function blankDraft(choices) {
    return {
      type: choices.types[0], priority: "normal", title: "", phone: "", description: "",
      department: choices.myDepartment || (choices.departments[0] || {}).code || "",
    };
  }

  function sizeText(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " B";
  }

  window.tlWorkOrders = function () {
    const choices = JSON.parse(document.getElementById("wo-choices").textContent);
    return {
      choices: choices,
      filter: { view: "all", department: "", state: "", type: "", priority: "", openOnly: true },
      results: [],
      total: 0,
      page: 1,
      order: null,
      creating: false,
      draft: blankDraft(choices),
      comment: "",
      assignee: "",
      transferTo: "",
      note: "",
      notePublic: false,
      attachments: [],
      error: "",
      busy: false,
      latest: window.tlLatest(),

      async init() {
        const params = new URLSearchParams(location.search);
        for (const key of ["view", "department", "state", "type", "priority"]) {
          if (params.get(key)) this.filter[key] = params.get(key);
        }
        if (params.get("open") === "0") this.filter.openOnly = false;
        if (this.filter.view === "queue" && !this.filter.department) {
          this.filter.department = choices.myDepartment || "";
        }
        await this.search(1);
        if (params.get("code")) await this.open(params.get("code"));
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      listPath(page) {
        const f = this.filter;
        const paging = "page=" + page + "&size=" + PAGE;
        if (f.view === "overdue") return "/api/workorders/overdue?" + paging;
        if (f.view === "queue") {
          if (!f.department) throw new Error(window.TL_TEXT.needDepartment);
          return "/api/workorders/queue/" + enc(f.department) + "?" + paging;
        }
        const query = new URLSearchParams();
        for (const key of ["department", "state", "type", "priority"]) {
          if (f[key]) query.set(key, f[key]);
        }
        if (f.view === "mine") query.set("assignee_id", choices.me);
        if (f.openOnly && !f.state) query.set("open_only", "true");
        return "/api/workorders?" + paging + (query.toString() ? "&" + query : "");
      },
      search(page) {
        return this.latest("search", () => api("GET", this.listPath(page)), (found) => {
          this.results = found.items;
          this.total = found.total;
          this.page = found.page;
          this.remember();
        });
      },
      pages() { return Math.max(1, Math.ceil(this.total / PAGE)); },
      remember() {
        const f = this.filter;
        const query = new URLSearchParams();
        for (const key of ["view", "department", "state", "type", "priority"]) {
          if (f[key] && !(key === "view" && f[key] === "all")) query.set(key, f[key]);
        }
        if (!f.openOnly) query.set("open", "0");
        if (this.order) query.set("code", this.order.code);
        history.replaceState(null, "", "/work-orders" + (query.toString() ? "?" + query : ""));
      },
      open(code) {
        return this.latest("record", () => api("GET", "/api/workorders/by-code/" + enc(code)),
          (order) => this.show(order));
      },
      show(order) {
        if (!this.order || this.order.id !== order.id) this.loadAttachments(order.id);
        this.order = order;
        this.creating = false;
        this.comment = "";
        this.remember();
        const row = this.results.findIndex((w) => w.id === order.id);
        if (row >= 0) this.results.splice(row, 1, order);
      },
      change(path, body) {
        return this.run(async () => {
          this.show(await api("POST", "/api/workorders/" + enc(this.order.id) + path, body));
        });
      },
      act(action) { return this.change("/transitions", { action: action, comment: this.comment.trim() }); },
      assign(strategy) {
        if (strategy === "manual" && !this.assignee) { this.error = window.TL_TEXT.needAssignee; return; }
        const body = { strategy: strategy, comment: this.comment.trim() };
        if (strategy === "manual") body.assignee = this.assignee;
        return this.change("/assign", body);
      },
      assignToMe() {
        const me = choices.staff.find((p) => p.id === choices.me);
        this.assignee = me ? me.username : "";
        return this.assign("manual");
      },
      transfer() {
        if (!this.transferTo) { this.error = window.TL_TEXT.needDepartment; return; }
        if (!this.comment.trim()) { this.error = window.TL_TEXT.needReason; return; }
        return this.change("/transfer", { department: this.transferTo, reason: this.comment.trim() });
      },
      escalate() {
        if (!this.comment.trim()) { this.error = window.TL_TEXT.needReason; return; }
        return this.change("/escalate", { reason: this.comment.trim() });
      },
      addNote() {
        const text = this.note.trim();
        if (!text) { this.error = window.TL_TEXT.emptyNote; return; }
        return this.run(async () => {
          const entry = await api("POST", "/api/workorders/" + enc(this.order.id) + "/notes",
            { text: text, public: this.notePublic });
          this.order.log.push(entry);
          this.note = "";
          this.notePublic = false;
        });
      },
      attachmentsPath(id) { return "/api/workorders/" + enc(id || this.order.id) + "/attachments"; },
      async loadAttachments(id) {
        this.attachments = [];
        try { this.attachments = await api("GET", this.attachmentsPath(id)); } catch (e) { this.error = e.message; }
      },
      upload(input) {
        const file = input.files[0];
        if (!file) return;
        if (file.size > choices.attachmentMaxBytes) {
          this.error = window.TL_TEXT.tooLarge.replace("{max}", sizeText(choices.attachmentMaxBytes));
          input.value = "";
          return;
        }
        return this.run(async () => {
          try {
            this.attachments.push(await window.tlUpload(this.attachmentsPath(), file));
            this.order = await api("GET", "/api/workorders/" + enc(this.order.id));
          } finally { input.value = ""; }
        });
      },
      removeAttachment(attachment) {
        if (!confirm(window.TL_TEXT.confirmRemove.replace("{name}", attachment.filename))) return;
        return this.run(async () => {
          await api("DELETE", this.attachmentsPath() + "/" + enc(attachment.id));
          this.attachments = this.attachments.filter((a) => a.id !== attachment.id);
          this.order = await api("GET", "/api/workorders/" + enc(this.order.id));
        });
      },
      size(bytes) { return sizeText(bytes); },
      startNew() {
        this.draft = blankDraft(choices);
        this.creating = true;
        this.error = "";
      },
      create() {
        const d = this.draft;
        if (!d.title.trim()) { this.error = window.TL_TEXT.needTitle; return; }
        return this.run(async () => {
          const body = { type: d.type, priority: d.priority, title: d.title.trim(),
            description: d.description, department: d.department, source: "phone" };
          if (d.phone.trim()) body.phone = d.phone.trim();
          const order = await api("POST", "/api/workorders", body);
          this.results.unshift(order);
          this.total += 1;
          this.show(order);
        });
      },
      label(key) { return window.TL_TEXT.labels[key] || key; },
      departmentName(code) {
        const found = choices.departments.find((d) => d.code === code);
        return found ? found.name : code;
      },
      personName(id) {
        const found = choices.staff.find((p) => p.id === id);
        return found ? found.name : "";
      },
      when(at) { return at ? new Date(at).toLocaleString() : ""; },
    };
  };
})();
