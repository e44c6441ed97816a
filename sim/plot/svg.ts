/** Minimal deterministic SVG string building. */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Coordinate to text: one decimal, no trailing ".0", never "-0". */
export function n(v: number): string {
  const s = (Math.round(v * 10) / 10).toFixed(1);
  const t = s.endsWith('.0') ? s.slice(0, -2) : s;
  return t === '-0' ? '0' : t;
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    out += ` ${k}="${escapeXml(typeof v === 'number' ? n(v) : v)}"`;
  }
  return out;
}

/** An element; `children` are already-rendered strings, `text` is escaped. */
export function el(tag: string, a: Attrs, ...children: string[]): string {
  return children.length === 0 ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${children.join('')}</${tag}>`;
}

export function text(a: Attrs, content: string): string {
  return `<text${attrs(a)}>${escapeXml(content)}</text>`;
}

/**
 * Polyline path data for [x, y] pixel pairs. Consecutive points that round to the same
 * output coordinates are written once; horizontal runs are collapsed to their ends.
 */
export function pathData(xs: ArrayLike<number>, ys: ArrayLike<number>, from = 0, to = xs.length): string {
  const px: string[] = [];
  const py: string[] = [];
  for (let i = from; i < to; i++) {
    const x = n(xs[i]!);
    const y = n(ys[i]!);
    const k = px.length;
    if (k > 0 && px[k - 1] === x && py[k - 1] === y) continue;
    if (k > 1 && py[k - 1] === y && py[k - 2] === y) {
      px[k - 1] = x; // extend the horizontal run
      continue;
    }
    px.push(x);
    py.push(y);
  }
  let d = '';
  for (let k = 0; k < px.length; k++) d += `${k === 0 ? 'M' : 'L'}${px[k]} ${py[k]}`;
  return d;
}

/** Tableau-10 palette. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** Rough text width for an 11 px sans-serif font (layout only; deterministic). */
export function textWidth(s: string, fontSize = 11): number {
  let w = 0;
  for (const ch of s) w += /[il.,:;'|!1 ]/.test(ch) ? 0.3 : /[mwMW@%]/.test(ch) ? 0.85 : /[A-Z0-9]/.test(ch) ? 0.62 : 0.53;
  return w * fontSize;
}
