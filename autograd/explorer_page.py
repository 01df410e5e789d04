"""The explorer page's HTML, CSS and script, kept as one string so it ships inside the package.

`explorer.py` fills the @@NAME@@ markers: TITLE (escaped text), VIEWS (the inline SVG layouts)
and DATA (the steps as JSON, with <, > and & escaped). The script builds the side panel with
textContent only, so no value from the graph is ever parsed as markup.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@@TITLE@@</title>
<style>
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, sans-serif; color: #222;
         display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 6px 10px;
           border-bottom: 1px solid #ddd; background: #fafafa; }
  header button { font: inherit; padding: 2px 9px; cursor: pointer; }
  #slider { flex: 1; min-width: 120px; }
  #where { min-width: 190px; font-variant-numeric: tabular-nums; }
  .phase-forward { color: #1e6fb8; } .phase-backward { color: #c0392b; }
  #notice { background: #fff4cc; border-bottom: 1px solid #e6c84f; padding: 6px 10px; }
  #notice[hidden] { display: none; }
  main { flex: 1; display: flex; min-height: 0; }
  #graph { flex: 1; overflow: auto; min-width: 0; }
  .view[hidden] { display: none; }
  #panel { width: 400px; flex: none; overflow: auto; border-left: 1px solid #ddd; padding: 8px 14px;
           background: #fcfcfc; }
  #panel h2 { font-size: 17px; margin: 4px 0 2px; }
  #panel h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #666; margin: 14px 0 4px; }
  .settings, .rule-words { color: #444; }
  .rule { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f2f2f2; padding: 3px 6px;
          border-radius: 3px; display: block; white-space: pre-wrap; margin-top: 3px; }
  .item { margin: 4px 0 8px; }
  .item .who { font-weight: 600; }
  .item .kind { color: #777; font-size: 12px; }
  .short { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap; }
  details pre { max-height: 220px; overflow: auto; background: #f4f4f4; padding: 4px 6px; margin: 2px 0;
                font-size: 12px; }
  summary { cursor: pointer; color: #555; font-size: 12px; }
  .note { color: #777; font-size: 12px; }
  svg g.node.pending { opacity: 0.25; }
  svg g.node.hl-current > ellipse, svg g.node.hl-current > polygon, svg g.node.hl-current > path,
  svg g.cluster.hl-current > path, svg g.cluster.hl-current > polygon { stroke: #e74c3c; stroke-width: 4px; }
  svg g.node.hl-input > ellipse, svg g.node.hl-input > polygon, svg g.node.hl-input > path,
  svg g.cluster.hl-input > path, svg g.cluster.hl-input > polygon { stroke: #2980b9; stroke-width: 3px; }
  svg g.node.hl-output > ellipse, svg g.node.hl-output > polygon, svg g.node.hl-output > path,
  svg g.cluster.hl-output > path, svg g.cluster.hl-output > polygon { stroke: #27ae60; stroke-width: 3px; }
  svg .member-hidden { display: none; }
  svg .off { visibility: hidden; }
  svg g.cluster > text.box-label { cursor: pointer; }
  svg g.cluster > text.box-label:hover { text-decoration: underline; }
  svg g.cluster.collapsed > path, svg g.cluster.collapsed > polygon { fill: #e3ebf3; stroke-dasharray: none; }
  svg g.node.box-node { cursor: pointer; }
  .legend span { display: inline-block; width: 10px; height: 10px; border: 3px solid; margin: 0 3px 0 8px;
                 vertical-align: -2px; }
</style>
</head>
<body>
<header>
  <button id="first" title="first step (Home)">|&#x25C0;</button>
  <button id="prev" title="previous step (left arrow)">&#x25C0;</button>
  <button id="play" title="play / pause">play</button>
  <button id="next" title="next step (right arrow)">&#x25B6;</button>
  <button id="last" title="last step (End)">&#x25B6;|</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
  <span id="where"></span>
  <button id="view-toggle" hidden></button>
  <button id="zoom-out" title="zoom out">&minus;</button>
  <button id="zoom-fit" title="fit the width">fit</button>
  <button id="zoom-in" title="zoom in">+</button>
</header>
<div id="notice" hidden><span id="notice-text"></span> <button id="notice-full">Show the full graph</button></div>
<main>
  <div id="graph">
@@VIEWS@@
  </div>
  <aside id="panel" aria-live="polite"></aside>
</main>
<script type="application/json" id="explorer-data">@@DATA@@</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("explorer-data").textContent);
  var steps = D.steps, current = 0, timer = null, zoom = 1;
  var viewName = D.start;
  var collapsed = new Set();            // clusters collapsed in place in the full view
  var byCluster = new Map();            // cluster name -> box
  D.boxes.forEach(function (b) { byCluster.set(b.cluster, b); });
  var consumers = {};                   // tensor -> ops reading it
  Object.keys(D.ops).forEach(function (op) {
    D.ops[op].inputs.forEach(function (x) {
      if (x.tensor) { (consumers[x.tensor] = consumers[x.tensor] || []).push(op); }
    });
  });
  var backwardAt = {};                  // op -> index of its backward step
  steps.forEach(function (s, k) { if (s.phase === "backward" && s.op) { backwardAt[s.op] = k; } });

  function titleOf(g) {
    var t = g.querySelector("title");
    return t ? t.textContent.trim() : "";
  }

  // Find every node, box and edge of each layout by its <title>, which Graphviz sets to the DOT name.
  var views = {};
  document.querySelectorAll(".view").forEach(function (div) {
    var v = { div: div, svg: div.querySelector("svg"), nodes: new Map(), clusters: new Map(), edges: [],
              gradLines: [] };
    div.querySelectorAll("g.node").forEach(function (g) {
      var name = titleOf(g);
      v.nodes.set(name, g);
      g.querySelectorAll("text").forEach(function (t) {
        if (t.textContent.indexOf("grad ") === 0) { v.gradLines.push({ text: t, tensor: name }); }
      });
      if (name.indexOf("box") === 0) {
        g.classList.add("box-node");
        g.addEventListener("click", function () { expandFromCompact("cluster_" + name.slice(3)); });
      }
    });
    div.querySelectorAll("g.cluster").forEach(function (g) {
      var name = titleOf(g);
      v.clusters.set(name, g);
      var label = g.querySelector("text");
      if (label && div.dataset.view === "full" && byCluster.has(name)) {
        label.classList.add("box-label");
        var tip = document.createElementNS(v.svg.namespaceURI, "title");
        tip.textContent = "click to collapse or expand this module";
        label.appendChild(tip);
        label.addEventListener("click", function () { toggleBox(name); });
      }
    });
    div.querySelectorAll("g.edge").forEach(function (g) {
      var ends = titleOf(g).split("->");
      v.edges.push({ g: g, tail: ends[0], head: ends[1], gradOf: D.gradEdges[titleOf(g)] });
    });
    views[div.dataset.view] = v;
  });
  if (!views[viewName]) { viewName = "full"; }

  // ------------------------------------------------------------------ collapsing boxes in place

  function outermostCollapsed() {
    var shown = new Map();              // node -> the collapsed cluster drawn for it
    var hiddenClusters = new Set();
    collapsed.forEach(function (c) {
      var b = byCluster.get(c), p = b.parent, covered = false;
      while (p) { if (collapsed.has(p)) { covered = true; } p = byCluster.has(p) ? byCluster.get(p).parent : ""; }
      if (covered) { return; }
      b.members.forEach(function (m) { shown.set(m, c); });
      b.inner.forEach(function (i) { hiddenClusters.add(i); });
    });
    return { shown: shown, hiddenClusters: hiddenClusters };
  }

  function applyCollapse() {
    var v = views.full, state = outermostCollapsed();
    v.nodes.forEach(function (g, name) { g.classList.toggle("member-hidden", state.shown.has(name)); });
    v.clusters.forEach(function (g, name) {
      var b = byCluster.get(name);
      var isShut = !!b && collapsed.has(name) && !state.hiddenClusters.has(name);
      g.classList.toggle("collapsed", !!isShut);
      g.classList.toggle("member-hidden", state.hiddenClusters.has(name));
      var note = g.querySelector("text.box-count");
      if (isShut && !note) {
        var shape = g.querySelector("path, polygon"), box = shape.getBBox();
        note = document.createElementNS(v.svg.namespaceURI, "text");
        note.setAttribute("class", "box-count");
        note.setAttribute("x", box.x + box.width / 2);
        note.setAttribute("y", box.y + box.height / 2);
        note.setAttribute("text-anchor", "middle");
        note.setAttribute("font-size", "12");
        note.setAttribute("fill", "#34495e");
        note.textContent = b.members.length + " nodes, collapsed (click the label to expand)";
        g.appendChild(note);
      }
      if (note) { note.classList.toggle("off", !isShut); }
    });
    v.edges.forEach(function (e) {
      var a = state.shown.get(e.tail), b = state.shown.get(e.head);
      e.g.classList.toggle("member-hidden", !!a && a === b);
    });
    v.shown = state.shown;
  }

  function toggleBox(cluster) {
    if (collapsed.has(cluster)) { collapsed.delete(cluster); } else { collapsed.add(cluster); }
    applyCollapse();
    show(current);
  }

  function expandFromCompact(cluster) {
    // The compact layout collapses the innermost boxes: open the full one with all but this box collapsed.
    collapsed = new Set();
    D.boxes.forEach(function (b) { if (b.inner.length === 0 && b.cluster !== cluster) { collapsed.add(b.cluster); } });
    setView("full");
  }

  // ------------------------------------------------------------------ views and zoom

  function setView(name) {
    viewName = name;
    Object.keys(views).forEach(function (k) { views[k].div.hidden = k !== name; });
    var toggle = document.getElementById("view-toggle");
    if (views.compact) {
      toggle.hidden = false;
      toggle.textContent = name === "full" ? "compact layout" : "full layout";
    }
    if (name === "full") { applyCollapse(); }
    setZoom(zoom);
    show(current);
  }

  function setZoom(z) {
    zoom = Math.max(0.1, Math.min(4, z));
    Object.keys(views).forEach(function (k) {
      var svg = views[k].svg, w = parseFloat(svg.getAttribute("width")), h = parseFloat(svg.getAttribute("height"));
      if (!svg.dataset.w) { svg.dataset.w = w; svg.dataset.h = h; }
      svg.style.width = (svg.dataset.w * 4 / 3 * zoom) + "px";
      svg.style.height = (svg.dataset.h * 4 / 3 * zoom) + "px";
    });
  }

  function fitZoom() {
    var svg = views[viewName].svg, pane = document.getElementById("graph");
    setZoom(Math.min(1, (pane.clientWidth - 8) / (parseFloat(svg.dataset.w || svg.getAttribute("width")) * 4 / 3)));
  }

  // ------------------------------------------------------------------ the panel

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function values(v, role, tensor, index) {
    var box = el("div", "val");
    box.dataset.role = role;
    if (tensor) { box.dataset.tensor = tensor; }
    if (index !== undefined) { box.dataset.input = index; }
    box.appendChild(el("span", "short", v.short));
    var d = el("details"), s = el("summary", "", "all values, " + v.shape);
    d.appendChild(s);
    d.appendChild(el("pre", "full", v.full));
    box.appendChild(d);
    return box;
  }

  function tensorItem(name, role, v, index, note) {
    var t = D.tensors[name], item = el("div", "item");
    item.appendChild(el("span", "who", t.title));
    item.appendChild(el("span", "kind", "  " + t.kind + (note ? " · " + note : "")));
    item.appendChild(values(v || t.value, role, name, index));
    return item;
  }

  function opHeader(panel, op, step) {
    var o = D.ops[op];
    panel.appendChild(el("h2", "", (step.phase === "forward" ? "Forward: " : "Backward: ") + o.name));
    if (o.settings.length) { panel.appendChild(el("div", "settings", o.settings.join(", "))); }
  }

  function render(k) {
    var step = steps[k], panel = document.getElementById("panel");
    panel.textContent = "";
    if (step.kind === "leaves") {
      panel.appendChild(el("h2", "", "The leaves"));
      panel.appendChild(el("div", "note", "The inputs and parameters the forward pass starts from."));
      step.tensors.forEach(function (t) { panel.appendChild(tensorItem(t, "leaf-value")); });
    } else if (step.kind === "done") {
      panel.appendChild(el("h2", "", "Backward done"));
      panel.appendChild(el("div", "note", "The gradient that reached each leaf: what backward() adds into its .grad."));
      step.tensors.forEach(function (t) { panel.appendChild(tensorItem(t, "leaf-grad", D.tensors[t].grad)); });
    } else if (step.phase === "forward") {
      var o = D.ops[step.op];
      opHeader(panel, step.op, step);
      if (o.words) { panel.appendChild(el("div", "rule-words", o.words)); }
      panel.appendChild(el("h3", "", "inputs"));
      o.inputs.forEach(function (x, i) {
        if (x.tensor) { panel.appendChild(tensorItem(x.tensor, "input-value", null, i)); }
        else { panel.appendChild(el("div", "item note", "input " + i + ": the constant " + x.constant)); }
      });
      panel.appendChild(el("h3", "", "output"));
      panel.appendChild(tensorItem(o.output, "output-value"));
    } else {
      var ob = D.ops[step.op];
      opHeader(panel, step.op, step);
      panel.appendChild(el("h3", "", "gradient arriving at the output"));
      panel.appendChild(tensorItem(ob.output, "arriving-grad", D.tensors[ob.output].grad));
      panel.appendChild(el("h3", "", "local rule"));
      if (ob.words) { panel.appendChild(el("div", "rule-words", ob.words)); }
      if (ob.rule) { panel.appendChild(el("code", "rule", ob.rule)); }
      panel.appendChild(el("h3", "", "gradient sent to each input"));
      ob.inputs.forEach(function (x, i) {
        var sent = step.sent[String(i)];
        if (x.constant !== undefined) {
          panel.appendChild(el("div", "item note", "input " + i + ": the constant " + x.constant + " (no gradient)"));
        } else if (!sent) {
          panel.appendChild(el("div", "item note", D.tensors[x.tensor].title + ": needs no gradient"));
        } else {
          var shared = (consumers[x.tensor] || []).length > 1 ? "adds to what its other uses send" : "";
          panel.appendChild(tensorItem(x.tensor, "sent-grad", sent, i, shared));
        }
      });
    }
  }

  // ------------------------------------------------------------------ the graph at a step

  function element(v, name) {
    if (viewName === "compact" && D.compactAs[name]) { return v.nodes.get(D.compactAs[name]); }
    if (viewName === "full" && v.shown && v.shown.has(name)) { return v.clusters.get(v.shown.get(name)); }
    return v.nodes.get(name);
  }

  function mark(v, name, cls) {
    var e = element(v, name);
    if (e) { e.classList.add(cls); }
  }

  function paint(k) {
    var v = views[viewName], step = steps[k];
    v.div.querySelectorAll(".hl-current, .hl-input, .hl-output").forEach(function (e) {
      e.classList.remove("hl-current", "hl-input", "hl-output");
    });
    var done = new Set(), produced = new Set(), backDone = new Set();
    steps.forEach(function (s, j) {
      if (j > k) { return; }
      if (s.kind === "leaves") { s.tensors.forEach(function (t) { produced.add(t); }); }
      if (s.phase === "forward" && s.op) { done.add(s.op); produced.add(D.ops[s.op].output); }
      if (s.phase === "backward" && s.op) { backDone.add(s.op); }
    });
    var backward = step.phase === "backward";
    v.nodes.forEach(function (g, name) {
      var pending = !backward && (D.ops[name] ? !done.has(name) : D.tensors[name] ? !produced.has(name) : false);
      g.classList.toggle("pending", pending);
    });
    v.edges.forEach(function (e) {
      if (e.gradOf) { e.g.classList.toggle("off", !(backward && (backDone.has(e.gradOf) || step.kind === "done"))); }
    });
    v.gradLines.forEach(function (l) { l.text.classList.toggle("off", !gradArrived(l.tensor, k, backward)); });
    if (step.tensors) {
      step.tensors.forEach(function (t) { mark(v, t, "hl-current"); });
    } else {
      var o = D.ops[step.op];
      o.inputs.forEach(function (x) { if (x.tensor) { mark(v, x.tensor, "hl-input"); } });
      mark(v, o.output, "hl-output");
      mark(v, step.op, "hl-current");
    }
    var focus = v.div.querySelector(".hl-current");
    if (focus && focus.scrollIntoView) { focus.scrollIntoView({ block: "center", inline: "center" }); }
  }

  function gradArrived(tensor, k, backward) {
    // A tensor's gradient is complete once every op reading it has sent its share.
    if (!backward) { return false; }
    if (steps[k].kind === "done") { return true; }
    return (consumers[tensor] || []).every(function (op) {
      return backwardAt[op] !== undefined && backwardAt[op] <= k;
    });
  }

  // ------------------------------------------------------------------ stepping

  function show(k) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    var step = steps[current], slider = document.getElementById("slider"), where = document.getElementById("where");
    slider.value = current;
    where.textContent = "";
    where.appendChild(el("span", "phase-" + step.phase, step.phase));
    where.appendChild(document.createTextNode(" · step " + (current + 1) + " of " + steps.length));
    render(current);
    paint(current);
  }

  function play() {
    var button = document.getElementById("play");
    if (timer) { clearInterval(timer); timer = null; button.textContent = "play"; return; }
    if (current >= steps.length - 1) { show(0); }
    button.textContent = "pause";
    timer = setInterval(function () {
      if (current >= steps.length - 1) { play(); } else { show(current + 1); }
    }, 1000);
  }

  function stop() { if (timer) { play(); } }

  var slider = document.getElementById("slider");
  slider.max = steps.length - 1;
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
  document.getElementById("prev").addEventListener("click", function () { stop(); show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { stop(); show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { stop(); show(steps.length - 1); });
  document.getElementById("play").addEventListener("click", play);
  document.getElementById("view-toggle").addEventListener("click", function () {
    setView(viewName === "full" ? "compact" : "full");
  });
  document.getElementById("notice-full").addEventListener("click", function () {
    collapsed = new Set();
    document.getElementById("notice").hidden = true;
    setView("full");
  });
  document.getElementById("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25); });
  document.getElementById("zoom-fit").addEventListener("click", fitZoom);
  document.addEventListener("keydown", function (e) {
    var tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var to = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: steps.length - 1 }[e.key];
    if (to === undefined) { return; }
    e.preventDefault();
    stop();
    show(to);
  });

  if (D.notice) {
    document.getElementById("notice-text").textContent = D.notice;
    document.getElementById("notice").hidden = false;
    document.getElementById("notice-full").hidden = !views.compact;
  }
  window.seedgradExplorer = { show: show, steps: steps.length, current: function () { return current; } };
  setView(viewName);
})();
</script>
</body>
</html>
"""
