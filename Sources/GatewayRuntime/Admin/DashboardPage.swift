/// The admin dashboard (`GET /` on the admin listener; docs/operations.md, "Dashboard"): one
/// self-contained page, no external scripts, styles or fonts, that polls `/stats` once a
/// second and shows routes, upstream servers, health and circuit state live. It needs no
/// token to load; on a 401 from `/stats` it asks for the token and sends it as a bearer
/// token. Data from the gateway is only ever set as text (`textContent`), never as markup.
enum DashboardPage {
    static let body: [UInt8] = Array(html.utf8)

    /// Nothing may load from anywhere else, and the page may only talk to its own origin.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Portico dashboard</title>
        <style>
        :root { --bg: #f6f7f9; --card: #fff; --text: #1d232b; --muted: #66707c; --line: #dde1e6;
          --ok: #1f8a4c; --warn: #c27a00; --bad: #c2352b; --accent: #2f6fd0; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
          background: var(--bg); color: var(--text); }
        header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; padding: 12px 20px;
          background: var(--card); border-bottom: 1px solid var(--line); }
        header h1 { font-size: 18px; margin: 0 12px 0 0; }
        header .fact { color: var(--muted); }
        header .fact b { color: var(--text); font-weight: 600; }
        main { padding: 16px 20px; display: grid; gap: 16px; }
        section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
        h2 { font-size: 15px; margin: 0 0 8px; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th:first-child, td:first-child { text-align: left; }
        th { color: var(--muted); font-weight: 500; font-size: 12px; }
        td.name { font-weight: 600; }
        .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; }
        .ok { background: var(--ok); } .warn { background: var(--warn); } .bad { background: var(--bad); }
        .num-bad { color: var(--bad); font-weight: 600; }
        svg.spark { width: 120px; height: 24px; vertical-align: middle; }
        svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
        #status { margin-left: auto; }
        #status.bad { color: #fff; padding: 2px 8px; border-radius: 4px; }
        #login { display: none; gap: 8px; align-items: center; }
        #login input { padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; width: 260px; }
        .muted { color: var(--muted); }
        .error { color: var(--bad); }
        </style>
        </head>
        <body>
        <header>
          <h1>Portico</h1>
          <span class="fact">version <b id="version">–</b></span>
          <span class="fact">up <b id="uptime">–</b></span>
          <span class="fact">workers <b id="workers">–</b></span>
          <span class="fact">config generation <b id="generation">–</b></span>
          <span class="fact">sha256 <b id="sha256">–</b></span>
          <span class="fact">last reload <b id="reload">–</b></span>
          <span class="fact">connections <b id="connections">–</b></span>
          <span class="fact">requests <b id="requests">–</b></span>
          <span class="fact">access log <b id="accesslog">–</b></span>
          <span class="fact" id="clusterfact" hidden>cluster limits <b id="cluster">–</b></span>
          <form id="login"><span>Admin token:</span><input id="token" type="password" autocomplete="off"><button>Use</button></form>
          <span id="status" class="muted">connecting…</span>
        </header>
        <main>
          <section>
            <h2>Routes</h2>
            <table>
              <thead><tr><th>route</th><th>req/s</th><th>last 60 s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>
                <th>max ms</th><th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>rate limited</th><th>retries</th>
                <th>timeouts</th><th>cancelled</th></tr></thead>
              <tbody id="routes"></tbody>
            </table>
          </section>
          <section>
            <h2>Upstreams</h2>
            <table>
              <thead><tr><th>server</th><th>health</th><th>circuit</th><th>req/s</th><th>in flight</th>
                <th>connections (busy / idle)</th><th>requests</th><th>failures</th><th>stale reuses</th></tr></thead>
              <tbody id="upstreams"></tbody>
            </table>
          </section>
        </main>
        <script>
        "use strict";
        // Polls /stats (docs/operations.md) once a second. Rates come from the gateway's own
        // uptime between two polls, so they stay right however the browser schedules timers.
        const history = new Map();   // "route:<name>" or "server:<upstream>/<address>" -> { last, rates[] }
        const historyLength = 60;
        let token = sessionStorage.getItem("porticoToken") || "";
        let previousUptime = null;

        function $(id) { return document.getElementById(id); }
        function cell(text, className) {
          const td = document.createElement("td");
          td.textContent = text;
          if (className) td.className = className;
          return td;
        }
        function pill(text, kind) {
          const td = document.createElement("td");
          const span = document.createElement("span");
          span.className = "pill " + kind;
          span.textContent = text;
          td.appendChild(span);
          return td;
        }
        function number(n) { return n === undefined || n === null ? "–" : n.toLocaleString("en-US"); }
        function ms(n) { return n === undefined || n === null ? "–" : n.toFixed(n < 10 ? 2 : 1); }
        function duration(seconds) {
          const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
          const m = Math.floor(s % 3600 / 60);
          return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s";
        }
        // Requests per second since the previous poll, remembered for the sparkline.
        function rate(key, count, elapsed) {
          let entry = history.get(key);
          if (!entry) { entry = { last: count, rates: [] }; history.set(key, entry); }
          const value = elapsed > 0 && count >= entry.last ? (count - entry.last) / elapsed : 0;
          entry.last = count;
          if (elapsed > 0) {
            entry.rates.push(value);
            if (entry.rates.length > historyLength) entry.rates.shift();
          }
          return { value, rates: entry.rates };
        }
        function sparkline(rates) {
          const td = document.createElement("td");
          const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
          svg.setAttribute("class", "spark");
          svg.setAttribute("viewBox", "0 0 " + (historyLength - 1) + " 24");
          svg.setAttribute("preserveAspectRatio", "none");
          const top = Math.max(1, ...rates);
          const start = historyLength - rates.length;
          const points = rates.map((r, i) => (start + i) + "," + (23 - 22 * r / top).toFixed(1)).join(" ");
          const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
          line.setAttribute("points", points);
          svg.appendChild(line);
          td.appendChild(svg);
          return td;
        }
        function render(stats) {
          const elapsed = previousUptime === null ? 0 : stats.uptimeSeconds - previousUptime;
          previousUptime = stats.uptimeSeconds;
          $("version").textContent = stats.version;
          $("uptime").textContent = duration(stats.uptimeSeconds);
          $("workers").textContent = stats.workers;
          $("generation").textContent = stats.config.generation;
          // The first 12 digits tell replicas apart; the title holds all 64.
          $("sha256").textContent = stats.config.sha256.slice(0, 12);
          $("sha256").title = stats.config.sha256;
          const reloads = stats.config.reloads;
          const reload = $("reload");
          reload.textContent = stats.config.lastError ? "failed: " + stats.config.lastError
            : reloads.succeeded + reloads.failed === 0 ? "none" : "ok (" + reloads.succeeded + " ok, " + reloads.failed + " failed)";
          reload.className = stats.config.lastError ? "error" : "";
          $("connections").textContent = number(stats.connections.active) + " open, " +
            number(stats.connections.accepted) + " accepted, " + number(stats.connections.rejected) + " rejected";
          $("requests").textContent = number(stats.requests.total) + " total, " + number(stats.requests.active) + " active";
          $("accesslog").textContent = number(stats.accessLog.written) + " written, " + number(stats.accessLog.dropped) + " dropped";
          // Cluster rate limits: whether Redis answers (else every cluster limit is on its
          // fallback), its calls and failed calls, and the decisions of every cluster route.
          $("clusterfact").hidden = !stats.cluster;
          if (stats.cluster) {
            const c = stats.cluster;
            const errors = Object.values(c.redis.errors).reduce((a, b) => a + b, 0);
            let admitted = 0, refused = 0, fallback = 0;
            for (const r of Object.values(c.routes)) {
              admitted += r.admitted; refused += r.refused;
              fallback += r.fallbackAdmitted + r.fallbackRefused + r.unavailable;
            }
            $("cluster").textContent = (c.fallbackActive ? "FALLBACK (Redis failing)" : "Redis ok") + ", " +
              number(c.redis.operations) + " calls (" + number(errors) + " failed, p99 " + ms(c.redis.latencyMs.p99) + "), " +
              number(admitted) + " admitted, " + number(refused) + " refused, " + number(fallback) + " by the fallback";
            $("cluster").className = c.fallbackActive ? "error" : "";
          }

          const routes = $("routes");
          const routeRows = [];
          for (const [name, route] of Object.entries(stats.routes)) {
            const r = rate("route:" + name, route.requests, elapsed);
            const tr = document.createElement("tr");
            tr.dataset.route = name;
            tr.append(cell(name, "name"), cell(r.value.toFixed(1), "rate"), sparkline(r.rates),
              cell(ms(route.latencyMs.p50)), cell(ms(route.latencyMs.p90)), cell(ms(route.latencyMs.p99)),
              cell(ms(route.latencyMs.max)), cell(number(route.responses["2xx"])), cell(number(route.responses["3xx"])),
              cell(number(route.responses["4xx"])),
              cell(number(route.responses["5xx"]), route.responses["5xx"] > 0 ? "num-bad" : ""),
              cell(number(route.rateLimited)), cell(number(route.retries)), cell(number(route.timeouts)),
              cell(number(route.cancelled)));
            routeRows.push(tr);
          }
          routes.replaceChildren(...routeRows);

          const upstreams = $("upstreams");
          const rows = [];
          for (const [name, upstream] of Object.entries(stats.upstreams)) {
            const head = document.createElement("tr");
            const title = cell(name + " — " + number(upstream.requests) + " requests, " + number(upstream.failures) +
              " failures, " + number(upstream.pending) + " waiting for a connection", "name");
            title.colSpan = 9;
            head.appendChild(title);
            rows.push(head);
            for (const [address, server] of Object.entries(upstream.servers)) {
              const r = rate("server:" + name + "/" + address, server.requests, elapsed);
              const tr = document.createElement("tr");
              tr.dataset.server = address;
              tr.append(cell("\u00a0\u00a0" + address),
                server.healthy ? pill("healthy", "ok") : pill("unhealthy", "bad"),
                pill(server.circuit.replace("_", "-"), server.circuit === "closed" ? "ok" : server.circuit === "open" ? "bad" : "warn"),
                cell(r.value.toFixed(1)), cell(number(server.activeRequests)),
                cell(number(server.activeConnections) + " / " + number(server.idleConnections)),
                cell(number(server.requests)), cell(number(server.failures), server.failures > 0 ? "num-bad" : ""),
                cell(number(server.staleReuses)));
              rows.push(tr);
            }
          }
          upstreams.replaceChildren(...rows);
        }
        async function poll() {
          const status = $("status");
          try {
            const headers = token ? { Authorization: "Bearer " + token } : {};
            const response = await fetch("stats", { headers, cache: "no-store" });
            if (response.status === 401) {
              $("login").style.display = "flex";
              status.textContent = "this admin endpoint needs its token";
              status.className = "bad pill";
            } else if (!response.ok) {
              throw new Error("HTTP " + response.status);
            } else {
              $("login").style.display = "none";
              render(await response.json());
              status.textContent = "live · " + new Date().toLocaleTimeString();
              status.className = "muted";
            }
          } catch (error) {
            status.textContent = "no answer: " + error.message;
            status.className = "bad pill";
          }
          setTimeout(poll, 1000);
        }
        $("login").addEventListener("submit", (event) => {
          event.preventDefault();
          token = $("token").value.trim();
          sessionStorage.setItem("porticoToken", token);
        });
        poll();
        </script>
        </body>
        </html>
        """#
}
