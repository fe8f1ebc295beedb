// charts.js — line charts on a canvas: axes with a few ticks, lines, dashed
// lines and points. chart(canvas, {series: [{x, y, color, dash, points}],
// xlabel, ylabel, xrange, yrange}) draws and returns the mapping, for
// overlays (contours, trajectories) and for dragging points.
'use strict';
function niceTicks(lo, hi, n) {
  const span = hi - lo || 1, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => span / s <= n) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(Math.abs(t) < 1e-12 * span ? 0 : t);
  return ticks;
}
function chart(canvas, opts) {
  const ctx = canvas.getContext('2d'), W = canvas.width, H = canvas.height;
  const pad = {l: 52, r: 10, t: 10, b: 34};
  const finite = (v) => Number.isFinite(v);
  let xs = [], ys = [];
  for (const s of opts.series) xs.push(...s.x.filter(finite)), ys.push(...s.y.filter(finite));
  const range = (v, r) => {
    if (r) return r;
    let lo = Math.min(...v), hi = Math.max(...v);
    if (!finite(lo)) lo = -1, hi = 1;
    if (lo === hi) lo -= 1, hi += 1;
    const m = 0.05 * (hi - lo);
    return [lo - m, hi + m];
  };
  const [x0, x1] = range(xs, opts.xrange), [y0, y1] = range(ys, opts.yrange);
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const Y = (y) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const map = {X, Y, x0, x1, y0, y1, pad, W, H,
    invX: (px) => x0 + ((px - pad.l) / (W - pad.l - pad.r)) * (x1 - x0),
    invY: (py) => y0 + ((H - pad.b - py) / (H - pad.t - pad.b)) * (y1 - y0)};
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = '11px sans-serif';
  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#444';
  ctx.lineWidth = 1;
  const fmt = (t) => String(Number(t.toPrecision(4)));
  for (const t of niceTicks(x0, x1, 6)) {
    ctx.beginPath(), ctx.moveTo(X(t), pad.t), ctx.lineTo(X(t), H - pad.b), ctx.stroke();
    ctx.textAlign = 'center', ctx.fillText(fmt(t), X(t), H - pad.b + 13);
  }
  for (const t of niceTicks(y0, y1, 5)) {
    ctx.beginPath(), ctx.moveTo(pad.l, Y(t)), ctx.lineTo(W - pad.r, Y(t)), ctx.stroke();
    ctx.textAlign = 'right', ctx.fillText(fmt(t), pad.l - 4, Y(t) + 4);
  }
  ctx.strokeStyle = '#888';
  ctx.strokeRect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b);
  ctx.textAlign = 'center';
  if (opts.xlabel) ctx.fillText(opts.xlabel, (pad.l + W - pad.r) / 2, H - 4);
  if (opts.ylabel) ctx.save(), ctx.translate(11, (pad.t + H - pad.b) / 2), ctx.rotate(-Math.PI / 2), ctx.fillText(opts.ylabel, 0, 0), ctx.restore();
  if (opts.under) opts.under(ctx, map);
  ctx.save();
  ctx.beginPath(), ctx.rect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b), ctx.clip();
  for (const s of opts.series) {
    ctx.strokeStyle = ctx.fillStyle = s.color || '#08519c';
    ctx.lineWidth = s.width || 1.6;
    ctx.setLineDash(s.dash ? [5, 4] : []);
    if (!s.only_points) {
      ctx.beginPath();
      let pen = false;
      s.x.forEach((x, i) => {
        const y = s.y[i];
        if (!finite(x) || !finite(y)) return (pen = false);
        pen ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y));
        pen = true;
      });
      ctx.stroke();
    }
    if (s.points) s.x.forEach((x, i) => finite(s.y[i]) && (ctx.beginPath(), ctx.arc(X(x), Y(s.y[i]), s.radius || 3, 0, 7), ctx.fill()));
  }
  ctx.restore();
  ctx.setLineDash([]);
  const labelled = opts.series.filter((s) => s.label);
  labelled.forEach((s, i) => {
    ctx.fillStyle = s.color || '#08519c';
    ctx.textAlign = 'left';
    ctx.fillText(s.label, pad.l + 8, pad.t + 14 + 13 * i);
  });
  return map;
}
