// fab serve: the job page's 3D view. Each `<div class="view3d" data-mesh="URL">` gets a canvas
// showing the design fetched from URL, coloured per vertex by its depth against the scan it was
// planned from (mm): blue where the design is pushed in, red where it is built up, white where
// it follows the scan, grey where there is no scan (the base). Drag to turn it, wheel or pinch
// to zoom, double-click to go back to the first view.
//
// The mesh comes as fab serve's binary view (see src/cmd/serve/view.rs): "FABV", a u32 version,
// a u32 length and that many bytes of JSON ({vertices, triangles, depth, note}), zero padding to
// a multiple of 4, then f32 positions (3 per vertex), f32 depths (one per vertex, NaN for none;
// only when `depth`), and u32 triangle corners (3 per triangle), all little-endian.
//
// When a view is drawn its element gets data-state="drawn" (or "failed" with the reason in its
// status line): the browser test waits for it and reads the canvas's pixels.

import * as THREE from './three.module.min.js';

const BACKGROUND = 0xf4f4f4;
const BLUE = [0.13, 0.33, 0.86];
const WHITE = [0.96, 0.96, 0.96];
const RED = [0.86, 0.16, 0.12];
const GREY = [0.62, 0.62, 0.62];

for (const el of document.querySelectorAll('.view3d')) {
  show(el).catch((e) => {
    el.dataset.state = 'failed';
    say(el, `The 3D view could not be shown: ${e.message}`);
  });
}

function say(el, text) {
  let p = el.querySelector('.view-status');
  if (!p) {
    p = document.createElement('p');
    p.className = 'view-status';
    el.append(p);
  }
  p.textContent = text;
}

function parse(buf) {
  const dv = new DataView(buf);
  const magic = String.fromCharCode(...new Uint8Array(buf, 0, 4));
  if (magic !== 'FABV' || dv.getUint32(4, true) !== 1) throw new Error('not a fab view');
  const len = dv.getUint32(8, true);
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 12, len)));
  let at = 12 + len;
  at += (4 - (at % 4)) % 4;
  const n = meta.vertices;
  const m = meta.triangles;
  const positions = new Float32Array(buf, at, 3 * n);
  at += 12 * n;
  let depth = null;
  if (meta.depth) {
    depth = new Float32Array(buf, at, n);
    at += 4 * n;
  }
  const index = new Uint32Array(buf, at, 3 * m);
  return { meta, positions, depth, index };
}

// The legend's full scale: the 99th percentile of |depth| rounded up to 1, 2 or 5 times a power
// of ten, at least 1 mm.
function scale(depth) {
  const a = Array.from(depth).filter(Number.isFinite).map(Math.abs).sort((x, y) => x - y);
  const p99 = a.length ? a[Math.min(a.length - 1, Math.floor(a.length * 0.99))] : 0;
  const steps = [1, 2, 5, 10, 20, 50, 100];
  return steps.find((v) => v >= p99) ?? steps[steps.length - 1];
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function colour(d, full) {
  if (!Number.isFinite(d)) return GREY;
  const t = Math.max(-1, Math.min(1, d / full));
  return t < 0 ? mix(WHITE, BLUE, -t) : mix(WHITE, RED, t);
}

function css(c) {
  return `rgb(${c.map((v) => Math.round(v * 255)).join(',')})`;
}

function legend(el, full) {
  const box = document.createElement('div');
  box.className = 'legend';
  const bar = document.createElement('div');
  bar.className = 'legend-bar';
  bar.style.height = '12px';
  bar.style.background = `linear-gradient(to right, ${css(BLUE)}, ${css(WHITE)}, ${css(RED)})`;
  bar.style.border = '1px solid #999';
  const labels = document.createElement('div');
  labels.style.display = 'flex';
  labels.style.justifyContent = 'space-between';
  for (const text of [`−${full} mm pushed in`, '0 mm (as scanned)', `+${full} mm built up`]) {
    const s = document.createElement('span');
    s.textContent = text;
    labels.append(s);
  }
  box.append(bar, labels);
  el.append(box);
}

async function show(el) {
  say(el, 'Loading the 3D view…');
  const r = await fetch(el.dataset.mesh, { credentials: 'same-origin' });
  if (!r.ok) {
    throw new Error((await r.text()) || `the server answered ${r.status}`);
  }
  const { meta, positions, depth, index } = parse(await r.arrayBuffer());

  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.setIndex(new THREE.BufferAttribute(index, 1));
  geometry.computeVertexNormals();
  const colours = new Float32Array(positions.length);
  const full = depth ? scale(depth) : 1;
  const c = new THREE.Color();
  for (let i = 0; i < meta.vertices; i++) {
    const [r0, g0, b0] = depth ? colour(depth[i], full) : WHITE;
    c.setRGB(r0, g0, b0, THREE.SRGBColorSpace);
    colours[3 * i] = c.r;
    colours[3 * i + 1] = c.g;
    colours[3 * i + 2] = c.b;
  }
  geometry.setAttribute('color', new THREE.BufferAttribute(colours, 3));
  geometry.computeBoundingSphere();
  const { center, radius } = geometry.boundingSphere;

  const canvas = document.createElement('canvas');
  canvas.style.width = '100%';
  canvas.style.height = '420px';
  canvas.style.display = 'block';
  canvas.style.touchAction = 'none';
  canvas.style.cursor = 'grab';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    depth ? 'The design in 3D, coloured by its depth against the scan' : 'The design in 3D',
  );
  el.prepend(canvas);
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setClearColor(BACKGROUND);

  const scene = new THREE.Scene();
  const material = new THREE.MeshLambertMaterial({ vertexColors: true, side: THREE.DoubleSide });
  scene.add(new THREE.Mesh(geometry, material));
  scene.add(new THREE.HemisphereLight(0xffffff, 0x808080, 2.0));
  const camera = new THREE.PerspectiveCamera(35, 1, radius / 100, radius * 100);
  camera.up.set(0, 0, 1); // the design's +Z is up (program coordinates)
  const light = new THREE.DirectionalLight(0xffffff, 1.5);
  light.position.set(0.3, 0.5, 1);
  camera.add(light);
  scene.add(camera);

  // the orbit: turn about the design's centre, Z up
  const first = { azimuth: -2.2, elevation: 0.75, distance: radius * 2.4 };
  const orbit = { ...first };
  const place = () => {
    const ce = Math.cos(orbit.elevation);
    camera.position.set(
      center.x + orbit.distance * ce * Math.cos(orbit.azimuth),
      center.y + orbit.distance * ce * Math.sin(orbit.azimuth),
      center.z + orbit.distance * Math.sin(orbit.elevation),
    );
    camera.lookAt(center);
  };
  let queued = false;
  const draw = () => {
    queued = false;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.floor(w * renderer.getPixelRatio())) renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    place();
    renderer.render(scene, camera);
  };
  const redraw = () => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(draw);
    }
  };
  const pointers = new Map();
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    canvas.style.cursor = 'grabbing';
  });
  canvas.addEventListener('pointermove', (e) => {
    const last = pointers.get(e.pointerId);
    if (!last) return;
    if (pointers.size === 1) {
      orbit.azimuth -= (e.clientX - last.x) * 0.01;
      orbit.elevation = Math.max(-1.55, Math.min(1.55, orbit.elevation + (e.clientY - last.y) * 0.01));
    } else if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const before = Math.hypot(a.x - b.x, a.y - b.y);
      last.x = e.clientX;
      last.y = e.clientY;
      const after = Math.hypot(a.x - b.x, a.y - b.y);
      if (before > 0 && after > 0) zoom(before / after);
    }
    last.x = e.clientX;
    last.y = e.clientY;
    redraw();
  });
  const up = (e) => {
    pointers.delete(e.pointerId);
    canvas.style.cursor = 'grab';
  };
  canvas.addEventListener('pointerup', up);
  canvas.addEventListener('pointercancel', up);
  const zoom = (f) => {
    orbit.distance = Math.max(radius * 0.5, Math.min(radius * 20, orbit.distance * f));
  };
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      zoom(Math.exp(e.deltaY * 0.001));
      redraw();
    },
    { passive: false },
  );
  canvas.addEventListener('dblclick', () => {
    Object.assign(orbit, first);
    redraw();
  });
  window.addEventListener('resize', redraw);

  draw();
  if (depth) legend(el, full);
  say(el, meta.note);
  el.dataset.vertices = String(meta.vertices);
  el.dataset.state = 'drawn';
}
