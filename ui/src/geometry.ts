// Page geometry for the viewer: page points (1/72 in, origin top-left, as the engine gives
// every box) to screen pixels, zoom levels, and which region a click falls in. Pure functions,
// unit-tested (geometry.test.ts).
import type { BBox } from "./bindings/BBox";

export type Zoom = "fit-width" | "fit-page" | number;

/// Zoom levels offered by +/- (screen pixels per page point).
export const ZOOM_STEPS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4];

/// Screen pixels per page point for a zoom choice and the space the page has.
export function scaleFor(zoom: Zoom, page: { width: number; height: number }, view: { width: number; height: number }): number {
  const w = Math.max(1, page.width);
  const h = Math.max(1, page.height);
  if (zoom === "fit-width") return Math.max(0.1, view.width / w);
  if (zoom === "fit-page") return Math.max(0.1, Math.min(view.width / w, view.height / h));
  return zoom;
}

/// The next zoom level up (+1) or down (-1) from the current scale.
export function zoomStep(scale: number, dir: 1 | -1): number {
  if (dir > 0) return ZOOM_STEPS.find((z) => z > scale + 1e-3) ?? ZOOM_STEPS[ZOOM_STEPS.length - 1];
  return [...ZOOM_STEPS].reverse().find((z) => z < scale - 1e-3) ?? ZOOM_STEPS[0];
}

/// Pixel width to draw a page at, for a CSS width on a screen of `dpr` device pixels per CSS
/// pixel: rounded up to 100 px so that small resizes reuse the drawn (cached) image.
export function drawWidth(cssWidth: number, dpr: number): number {
  return Math.min(4000, Math.max(100, Math.ceil((cssWidth * dpr) / 100) * 100));
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/// A box in page points as a rectangle in screen pixels at `scale`.
export function toScreen(b: BBox, scale: number): Rect {
  const [x0, y0, x1, y1] = b;
  return { left: x0 * scale, top: y0 * scale, width: Math.max(1, (x1 - x0) * scale), height: Math.max(1, (y1 - y0) * scale) };
}

/// A point on screen (relative to the page's top-left) in page points.
export function toPage(x: number, y: number, scale: number): [number, number] {
  return [x / scale, y / scale];
}

const area = (b: BBox) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

/// The index of the smallest box that holds the point (nested regions: the innermost wins).
export function boxAt(boxes: BBox[], x: number, y: number): number | null {
  let best: number | null = null;
  boxes.forEach((b, i) => {
    if (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] && (best === null || area(b) < area(boxes[best]))) best = i;
  });
  return best;
}

/// The box around several boxes.
export function union(boxes: BBox[]): BBox | null {
  if (!boxes.length) return null;
  return boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])] as BBox);
}

/// The scroll position that brings a rectangle into the middle of a viewport, or null when it is
/// already fully visible.
export function scrollToShow(r: Rect, view: { scrollLeft: number; scrollTop: number; width: number; height: number }): { left: number; top: number } | null {
  const visible = r.left >= view.scrollLeft && r.top >= view.scrollTop && r.left + r.width <= view.scrollLeft + view.width && r.top + r.height <= view.scrollTop + view.height;
  if (visible) return null;
  return { left: Math.max(0, r.left + r.width / 2 - view.width / 2), top: Math.max(0, r.top + r.height / 2 - view.height / 2) };
}
