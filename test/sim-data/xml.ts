/**
 * Tiny XML well-formedness checker for the SVG tests (no DOM needed): tags nest and
 * close, attribute syntax is name="value" without raw '<' or stray '&', names are not
 * repeated, text has no raw '<' and only known or numeric entities.
 * Returns the element names in document order.
 */
const NAME = /^[A-Za-z_][\w.:-]*$/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(s: string, where: string): void {
  if (s.includes('<')) throw new Error(`raw '<' in ${where}`);
  if (s.replace(ENTITY, '').includes('&')) throw new Error(`bad entity in ${where}: ${s.slice(0, 60)}`);
}

export function checkWellFormedXml(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  let i = 0;
  let roots = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textPart = lt < 0 ? xml.slice(i) : xml.slice(i, lt);
    checkText(textPart, `text at ${i}`);
    if (stack.length === 0 && textPart.trim() !== '') throw new Error(`text outside the root element at ${i}`);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error(`unterminated tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('?') || tag.startsWith('!--')) continue;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}> at ${lt}`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s/>]+)([\s\S]*)$/.exec(body);
    if (!m || !NAME.test(m[1]!)) throw new Error(`bad tag name at ${lt}: <${tag.slice(0, 30)}`);
    const name = m[1]!;
    let rest = m[2]!;
    const seen = new Set<string>();
    const attrRe = /^\s+([A-Za-z_][\w.:-]*)="([^"]*)"/;
    for (;;) {
      const a = attrRe.exec(rest);
      if (!a) break;
      if (seen.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      seen.add(a[1]!);
      checkText(a[2]!, `attribute ${a[1]} of <${name}>`);
      rest = rest.slice(a[0].length);
    }
    if (rest.trim() !== '') throw new Error(`bad attribute syntax in <${name}>: ${rest.slice(0, 40)}`);
    if (stack.length === 0) roots++;
    if (roots > 1) throw new Error('more than one root element');
    names.push(name);
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) throw new Error('no root element');
  return names;
}
