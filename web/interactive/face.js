// face.js — window.nd: the small JavaScript face of nd compiled to WebAssembly
// (web/nd_web.h). Every call is synchronous once window.ndReady has resolved;
// a failure throws an Error carrying nd's message.
'use strict';
function ndFace(m) {
  // Text into the module's heap (freed by the caller through call()).
  const cstr = (s) => {
    const n = m.lengthBytesUTF8(s) + 1, p = m._malloc(n);
    m.stringToUTF8(s, p, n);
    return p;
  };
  // Calls an nd_web_* function that returns JSON text (NULL on failure).
  const call = (fn, ...args) => {
    const owned = [];
    const cargs = args.map((a) => (typeof a === 'string' ? (owned.push(cstr(a)), owned[owned.length - 1]) : a));
    try {
      const p = fn(...cargs);
      if (!p) throw new Error(m.UTF8ToString(m._nd_web_error()));
      return JSON.parse(m.UTF8ToString(p));
    } finally {
      owned.forEach((p) => m._free(p));
    }
  };
  const num = (v, what) => {
    const x = Number(v);
    if (v === '' || v === null || v === undefined || Number.isNaN(x)) throw new Error(`${what} must be a number, not '${v}'`);
    return x;
  };
  const bytes = (data) => {
    const p = m._malloc(data.length);
    m.HEAPU8.set(data, p);
    return p;
  };
  // A JS value as nd_parse reads it: 1, [1,2,3], [[1,2],[3,4]].
  const literal = (v) => (Array.isArray(v) ? '[' + v.map(literal).join(',') + ']' : String(v));
  return {
    version: () => m.UTF8ToString(m._nd_web_version()),
    gd: ({f = 'x^2', method = 'gd', lr = 0.2, steps = 10, x0 = 10, momentum = 0} = {}) =>
      call(m._nd_web_gd, f, method, num(x0, 'x0'), num(lr, 'lr'), num(momentum, 'momentum'), num(steps, 'steps') | 0),
    gd2: ({method = 'gd', a = 0.1, b = 2, x1 = -5, x2 = -2, lr = 0.4, momentum = 0, steps = 20} = {}) =>
      call(m._nd_web_gd2, method, num(a, 'a'), num(b, 'b'), num(x1, 'x1'), num(x2, 'x2'), num(lr, 'lr'),
           num(momentum, 'momentum'), num(steps, 'steps') | 0),
    fit: (points) => call(m._nd_web_fit, String(points)),
    // inputs: {x: [1,2,3], w: [0.5,-1,2], y: 1}, or the CLI's text "x=[1,2,3] w=[0.5,-1,2] y=1"
    autodiff: (expr, inputs = {}) => {
      const text = typeof inputs === 'string'
        ? inputs.split(/\s+(?=[A-Za-z_]\w*\s*=)/).join('\n')
        : Object.entries(inputs).map(([k, v]) => `${k}=${literal(v)}`).join('\n');
      return call(m._nd_web_autodiff, String(expr), text);
    },
    activation: (name, {lo = -8, hi = 8, n = 321} = {}) => call(m._nd_web_activation, name, lo, hi, n),
    sinRelu: (n) => call(m._nd_web_sin_relu, num(n, 'N') | 0),
    // ImageData warped like nd_warp_affine (bilinear): m is 2×3 or 3×3 (last row 0 0 1).
    warp: (image, mat) => {
      const rows = mat.map((r) => r.map((v) => num(v, 'every matrix entry')));
      if (rows.length === 3 && (rows[2][0] !== 0 || rows[2][1] !== 0 || rows[2][2] !== 1))
        throw new Error(`nd_warp_affine: the last row must be 0 0 1 for an affine map, not ${rows[2].join(' ')}`);
      if (rows.length < 2 || rows[0].length !== 3 || rows[1].length !== 3)
        throw new Error('nd_warp_affine: the matrix must be 2×3 or 3×3');
      const {width: w, height: h} = image, n = w * h * 4;
      const src = bytes(image.data), dst = m._malloc(n), mp = m._malloc(48);
      try {
        m.HEAPF64.set(rows[0].concat(rows[1]), mp / 8);
        if (m._nd_web_warp(src, h, w, mp, dst) !== 0) throw new Error(m.UTF8ToString(m._nd_web_error()));
        return new ImageData(new Uint8ClampedArray(m.HEAPU8.slice(dst, dst + n)), w, h);
      } finally {
        m._free(src), m._free(dst), m._free(mp);
      }
    },
    reluNet: {
      start: (points, {hidden = 32, lr = 0.01} = {}) => call(m._nd_web_relu_net_start, String(points), num(hidden, 'hidden') | 0, num(lr, 'lr')),
      steps: (n) => call(m._nd_web_relu_net_steps, n | 0),
    },
    affineRecovery: {
      start: (image, {lr = 0.01} = {}) => {
        const p = bytes(image.data);
        try {
          return call(m._nd_web_affine_start, p, image.height, image.width, num(lr, 'lr'));
        } finally {
          m._free(p);
        }
      },
      steps: (n) => call(m._nd_web_affine_steps, n | 0),
    },
  };
}
