// Small SVG charts drawn with DOM calls (no library): grouped bars of counts before and after,
// and the journey's stages as a graph with forward and recycle edges.
import { h, svg } from "./dom";
import type { BuyerJourney } from "./types";

// Bars per category, "before" and "after" side by side, with the counts written on them.
export function beforeAfterBars(title: string, categories: string[],
    before: Record<string, number>, after: Record<string, number>): HTMLElement {
  const max = Math.max(1, ...categories.map((c) => Math.max(before[c] ?? 0, after[c] ?? 0)));
  const barW = 22, gap = 18, height = 150, top = 16, bottom = 34;
  const width = Math.max(220, categories.length * (2 * barW + gap) + gap);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + top + bottom}`, width, role: "img",
    "aria-label": `${title}: before and after` });
  categories.forEach((c, i) => {
    const x = gap + i * (2 * barW + gap);
    ([[before, "before", 0], [after, "after", barW]] as const).forEach(([counts, cls, dx]) => {
      const v = counts[c] ?? 0;
      const bh = Math.round((v / max) * height);
      chart.append(svg("rect", { class: `bar ${cls}`, x: x + dx, y: top + height - bh,
        width: barW - 2, height: Math.max(bh, 1) }, svg("title", {}, `${c} ${cls}: ${v}`)));
      chart.append(svg("text", { x: x + dx + barW / 2 - 1, y: top + height - bh - 3,
        "text-anchor": "middle", class: "count" }, String(v)));
    });
    chart.append(svg("text", { x: x + barW, y: top + height + 16, "text-anchor": "middle",
      class: "label" }, c));
  });
  return h("figure", { class: "chart" }, chart,
    h("figcaption", {}, title, " ", h("span", { class: "key before" }, "before"), " ",
      h("span", { class: "key after" }, "after")));
}

// The journey: stages left to right with their owner, forward arrows between neighbours, and
// each recycle edge as an arc below, labelled with its reason codes.
export function journeyGraph(j: BuyerJourney): SVGElement {
  const stages = j.stages ?? [];
  const longest = Math.max(8, ...stages.map((s) => (s.displayName || s.id || "").length));
  const boxW = Math.min(220, Math.max(120, Math.round(longest * 7.6) + 20));
  const boxH = 46, gapX = 40, left = 10, top = 20;
  const index = new Map(stages.map((s, i) => [s.id ?? "", i]));
  const recycle = j.recycle ?? [];
  const height = top + boxH + 40 + recycle.length * 26 + 10;
  const width = left * 2 + stages.length * boxW + Math.max(0, stages.length - 1) * gapX;
  const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, class: "journey",
    role: "img", "aria-label": "journey stages and recycle edges" });
  g.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  const cx = (i: number) => left + i * (boxW + gapX) + boxW / 2;
  stages.forEach((s, i) => {
    const x = left + i * (boxW + gapX);
    g.append(svg("rect", { x, y: top, width: boxW, height: boxH, rx: 6,
      class: `stage ${s.ownerTeam ?? ""}` }));
    g.append(svg("text", { x: cx(i), y: top + 19, "text-anchor": "middle", class: "stage-name" },
      s.displayName || s.id || ""));
    g.append(svg("text", { x: cx(i), y: top + 36, "text-anchor": "middle", class: "stage-owner" },
      s.ownerTeam ?? ""));
    if (i + 1 < stages.length) {
      g.append(svg("line", { x1: x + boxW, y1: top + boxH / 2, x2: x + boxW + gapX - 2,
        y2: top + boxH / 2, class: "forward", "marker-end": "url(#arrow)" }));
    }
  });
  recycle.forEach((e, k) => {
    const from = index.get(e.from ?? ""), to = index.get(e.to ?? "");
    if (from === undefined || to === undefined) return;
    const y = top + boxH + 22 + k * 26;
    g.append(svg("path", { d: `M ${cx(from)} ${top + boxH} L ${cx(from)} ${y} L ${cx(to)} ${y} ` +
      `L ${cx(to)} ${top + boxH + 2}`, class: "recycle", fill: "none", "marker-end": "url(#arrow)" }));
    g.append(svg("text", { x: (cx(from) + cx(to)) / 2, y: y - 4, "text-anchor": "middle",
      class: "recycle-label" }, (e.reasons ?? []).length ? (e.reasons ?? []).join(", ") : "any reason"));
  });
  return g;
}
