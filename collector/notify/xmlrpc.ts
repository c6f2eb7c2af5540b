/**
 * A small XML-RPC codec (methodCall out, methodResponse in) for the Trac notifier's XmlRpcPlugin calls.
 * Hand-written rather than a dependency: five value types and one response shape are all Trac needs.
 */
export type XmlRpcValue = string | number | boolean | Date | XmlRpcValue[] | { [key: string]: XmlRpcValue };

export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
  }
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');

/** XML 1.0 cannot carry most control characters at all, even escaped; they are dropped. */
const stripInvalid = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

const iso8601 = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '');

function encodeValue(value: XmlRpcValue): string {
  if (typeof value === 'string') return `<value><string>${escapeXml(stripInvalid(value))}</string></value>`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `<value><double>${value}</double></value>`;
    return `<value><int>${value}</int></value>`;
  }
  if (value instanceof Date) return `<value><dateTime.iso8601>${iso8601(value)}</dateTime.iso8601></value>`;
  if (Array.isArray(value)) return `<value><array><data>${value.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(value).map(
    ([k, v]) => `<member><name>${escapeXml(stripInvalid(k))}</name>${encodeValue(v)}</member>`,
  );
  return `<value><struct>${members.join('')}</struct></value>`;
}

export function encodeCall(method: string, params: XmlRpcValue[]): string {
  const body = params.map((p) => `<param>${encodeValue(p)}</param>`).join('');
  const name = `<methodName>${escapeXml(method)}</methodName>`;
  return `<?xml version="1.0"?>\n<methodCall>${name}<params>${body}</params></methodCall>`;
}

const unescapeXml = (text: string): string =>
  text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e] ?? '';
  });

/** A minimal pull parser over the tags XML-RPC uses; enough for well-formed responses, rejects anything else. */
class Reader {
  private pos = 0;
  constructor(private readonly xml: string) {}
  private skip(): void {
    for (;;) {
      const m = /^(\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)/.exec(this.xml.slice(this.pos));
      if (!m) return;
      this.pos += m[0].length;
    }
  }
  peekTag(): string | undefined {
    this.skip();
    return /^<(\/?[\w.]+)\s*(\/?)>/.exec(this.xml.slice(this.pos))?.[1];
  }
  open(name?: string): { name: string; empty: boolean } {
    this.skip();
    const m = /^<([\w.]+)\s*(\/?)>/.exec(this.xml.slice(this.pos));
    if (!m?.[1] || (name && m[1] !== name))
      throw new Error(`XML-RPC response: expected <${name ?? 'tag'}> at ${this.pos}`);
    this.pos += m[0].length;
    return { name: m[1], empty: m[2] === '/' };
  }
  close(name: string): void {
    this.skip();
    const m = new RegExp(`^</${name.replace('.', '\\.')}\\s*>`).exec(this.xml.slice(this.pos));
    if (!m) throw new Error(`XML-RPC response: expected </${name}> at ${this.pos}`);
    this.pos += m[0].length;
  }
  text(): string {
    const end = this.xml.indexOf('<', this.pos);
    const raw = this.xml.slice(this.pos, end < 0 ? undefined : end);
    this.pos += raw.length;
    return unescapeXml(raw);
  }
}

function decodeValue(r: Reader): XmlRpcValue {
  const outer = r.open('value');
  if (outer.empty) return '';
  if (!r.peekTag() || r.peekTag() === '/value') {
    const s = r.text(); // A bare <value>text</value> is a string.
    r.close('value');
    return s;
  }
  const { name, empty } = r.open();
  let result: XmlRpcValue;
  if (empty) result = name === 'array' ? [] : name === 'struct' ? {} : '';
  else if (name === 'struct') {
    const obj: Record<string, XmlRpcValue> = {};
    while (r.peekTag() === 'member') {
      r.open('member');
      r.open('name');
      const key = r.text();
      r.close('name');
      obj[key] = decodeValue(r);
      r.close('member');
    }
    result = obj;
  } else if (name === 'array') {
    const items: XmlRpcValue[] = [];
    const data = r.open('data');
    if (!data.empty) {
      while (r.peekTag() === 'value') items.push(decodeValue(r));
      r.close('data');
    }
    result = items;
  } else {
    const text = r.text();
    if (name === 'int' || name === 'i4' || name === 'i8') result = Number.parseInt(text, 10);
    else if (name === 'double') result = Number(text);
    else if (name === 'boolean') result = text.trim() === '1';
    else if (name === 'dateTime.iso8601') {
      const m = /^(\d{4})-?(\d\d)-?(\d\d)T(\d\d):?(\d\d):?(\d\d)/.exec(text.trim());
      result = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : text;
    } else if (name === 'string' || name === 'base64') result = text;
    else throw new Error(`XML-RPC response: unknown value type <${name}>`);
  }
  if (!empty) r.close(name);
  r.close('value');
  return result;
}

/** The response's single value, or throws XmlRpcFault for a <fault>. */
export function decodeResponse(xml: string): XmlRpcValue {
  const r = new Reader(xml);
  r.open('methodResponse');
  if (r.peekTag() === 'fault') {
    r.open('fault');
    const fault = decodeValue(r) as { faultCode?: XmlRpcValue; faultString?: XmlRpcValue };
    throw new XmlRpcFault(Number(fault.faultCode), String(fault.faultString ?? ''));
  }
  r.open('params');
  r.open('param');
  return decodeValue(r);
}
