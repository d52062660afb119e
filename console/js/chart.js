// Small SVG line charts for the metrics, drawn with attributes only (no
// inline styles, so the page's CSP needs no 'unsafe-inline').
const NS = 'http://www.w3.org/2000/svg';

export function lineChart(title, unit, values) {
  const w = 240, h = 64, pad = 4;
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const last = values.length ? values[values.length - 1] : 0;
  const cap = document.createElement('figcaption');
  const name = document.createElement('span');
  name.textContent = title;
  const val = document.createElement('strong');
  val.textContent = format(last) + (unit ? ' ' + unit : '');
  cap.append(name, val);
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title}: ${format(last)} ${unit}, last ${values.length} samples`);
  const max = Math.max(...values, 1e-9);
  const pts = values.map((v, i) => {
    const x = values.length > 1 ? pad + (i * (w - 2 * pad)) / (values.length - 1) : w - pad;
    const y = h - pad - (v / max) * (h - 2 * pad);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const base = document.createElementNS(NS, 'line');
  base.setAttribute('x1', pad); base.setAttribute('x2', w - pad);
  base.setAttribute('y1', h - pad); base.setAttribute('y2', h - pad);
  base.setAttribute('class', 'axis');
  svg.append(base);
  if (pts.length) {
    const area = document.createElementNS(NS, 'polygon');
    area.setAttribute('points', `${pts[0].split(',')[0]},${h - pad} ${pts.join(' ')} ${pts[pts.length - 1].split(',')[0]},${h - pad}`);
    area.setAttribute('class', 'area');
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('class', 'line');
    svg.append(area, line);
  }
  fig.append(cap, svg);
  return fig;
}

export function format(v) {
  if (!isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  if (a >= 10) return v.toFixed(0);
  return v.toFixed(a >= 1 ? 1 : 2);
}
