// The supervisor console: live wallboard (queues and agents), alerts, and the
// actions a supervisor takes on the floor. State arrives by the realtime socket.
(function () {
  "use strict";
  const csrf = document.body.dataset.csrf;

  function clock(total) {
    const m = Math.floor(total / 60);
    const s = total % 60;
    return String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  window.tlConsole = function () {
    return {
      connected: false,
      queues: [],
      agents: [],
      alerts: [],
      now: Date.now(),
      big: new URLSearchParams(location.search).has("big"),
      error: "",
      busy: false,

      init() {
        window.addEventListener("tl:status", (e) => { this.connected = e.detail.connected; });
        window.addEventListener("tl:snapshot", (e) => this.apply(e.detail.floor));
        window.addEventListener("tl:push", (e) => {
          if (e.detail.kind === "floor") this.apply(e.detail.data);
          else if (e.detail.kind === "agent_row") this.upsertAgent(e.detail.data);
          else if (e.detail.kind === "queue_row") this.upsertQueue(e.detail.data);
          else if (e.detail.kind === "alert") this.alerts.unshift(e.detail.data);
        });
        setInterval(() => { this.now = Date.now(); }, 500);
      },
      apply(floor) {
        if (!floor) return;
        this.queues = floor.queues || [];
        this.agents = floor.agents || [];
        this.alerts = floor.alerts || [];
      },
      upsertAgent(row) {
        const i = this.agents.findIndex((a) => a.agent_id === row.agent_id);
        if (i >= 0) this.agents.splice(i, 1, row); else this.agents.push(row);
      },
      upsertQueue(row) {
        const i = this.queues.findIndex((q) => q.code === row.code);
        if (i >= 0) this.queues.splice(i, 1, row); else this.queues.push(row);
      },
      since(at) { return at ? clock(Math.max(0, Math.floor((this.now - Date.parse(at)) / 1000))) : ""; },
      clock: clock,
      percent(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; },
      stateLabel(state) { return (window.TL_STATES || {})[state] || state; },

      async act(path, body) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try {
          const response = await fetch(path, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          if (!response.ok) {
            const data = await response.json().catch(() => null);
            this.error = data && data.message ? data.message : response.statusText;
          }
        } finally {
          this.busy = false;
        }
      },
      snoop(agent, mode) { this.act("/api/console/snoop", { agent_id: agent.agent_id, mode: mode }); },
      force(agent, state) {
        const action = { ready: "ready", not_ready: "pause", logged_out: "logout" }[state];
        const body = state === "not_ready" ? { reason: "break" } : undefined;
        this.act("/api/acd/agents/" + encodeURIComponent(agent.agent_id) + "/" + action, body);
      },
      hangup(agent) { this.act("/api/console/hangup", { agent_id: agent.agent_id }); },
    };
  };
})();
