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
      waiting: [],
      handTo: {},
      stateLimits: {},
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
        this.waiting = floor.waiting || [];
        this.stateLimits = floor.state_limits || {};
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
      // Queue alerts come from the server; an agent too long in one state is checked
      // here against the clock, so the alert appears without waiting for an event.
      secondsIn(agent) { return agent.since ? Math.max(0, Math.floor((this.now - Date.parse(agent.since)) / 1000)) : 0; },
      overdue(agent) {
        const limit = this.stateLimits[agent.state];
        return limit !== undefined && agent.since && this.secondsIn(agent) > limit;
      },
      allAlerts() {
        const queueAlerts = this.alerts.filter((a) => !a.agent);
        const agentAlerts = this.agents.filter((a) => this.overdue(a)).map((a) => ({
          agent: a.agent_id,
          message: window.TL_TEXT.tooLong.replace("{agent}", a.name).replace("{state}", this.stateLabel(a.state))
            .replace("{minutes}", Math.floor(this.secondsIn(a) / 60)),
        }));
        return queueAlerts.concat(agentAlerts);
      },
      since(at) { return at ? clock(Math.max(0, Math.floor((this.now - Date.parse(at)) / 1000))) : ""; },
      clock: clock,
      percent(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; },
      stateLabel(state) { return (window.TL_STATES || {})[state] || state; },

      async act(path, body, method) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try {
          const response = await fetch(path, {
            method: method || "POST",
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
      // Agents who may take a waiting call now: not logged out and not already talking.
      takers() { return this.agents.filter((a) => ["ready", "not_ready", "wrap_up"].includes(a.state)); },
      handOver(call) {
        const agent = this.handTo[call.id];
        if (!agent) { this.error = window.TL_TEXT.chooseAgent; return; }
        this.act("/api/console/pickup", { call_id: call.id, agent_id: agent });
      },
      queueName(code) {
        const queue = this.queues.find((q) => q.code === code);
        return queue ? queue.name : code;
      },
      otherQueues(agent) { return this.queues.filter((q) => !(agent.queues || []).includes(q.code)); },
      member(agent, queue) {
        return "/api/acd/queues/" + encodeURIComponent(queue) + "/members/" + encodeURIComponent(agent.agent_id);
      },
      addToQueue(agent, event) {
        const queue = event.target.value;
        event.target.value = "";
        if (queue) this.act(this.member(agent, queue), { agent: agent.agent_id }, "PUT");
      },
      removeFromQueue(agent, queue) { this.act(this.member(agent, queue), undefined, "DELETE"); },
    };
  };
})();
