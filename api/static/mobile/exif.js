/* 照片处理 — read a photo's EXIF position and capture time on the phone, resize it to ≤ 1600 px,
 * and write the position and time back into the small JPEG so the server still reads them.
 *
 * A canvas re-encode drops every EXIF field (also the camera serial number and the like); only
 * GPS latitude/longitude, DateTimeOriginal and OffsetTimeOriginal are written back, in a minimal
 * big-endian TIFF block (IFD0 → Exif IFD and GPS IFD). Browsers draw an <img> upright (EXIF
 * orientation applied), so no orientation is written.
 */
(function (root) {
  "use strict";
  var MAX_PX = 1600, QUALITY = 0.85;
  var SIZES = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

  function readTiff(v, start) {
    var le = v.getUint16(start) === 0x4949;
    var u16 = function (o) { return v.getUint16(start + o, le); };
    var u32 = function (o) { return v.getUint32(start + o, le); };
    if (u16(2) !== 42) { return null; }
    function ifd(o) {
      var n = u16(o), tags = {};
      for (var i = 0; i < n; i++) {
        var e = o + 2 + i * 12;
        tags[u16(e)] = { type: u16(e + 2), count: u32(e + 4), at: e + 8 };
      }
      return tags;
    }
    function value(t) {
      if (!t) { return null; }
      var size = (SIZES[t.type] || 1) * t.count, o = size > 4 ? u32(t.at) : t.at, out = [];
      if (t.type === 2) {
        for (var i = 0; i < t.count; i++) { var ch = v.getUint8(start + o + i); if (ch) { out.push(String.fromCharCode(ch)); } }
        return out.join("");
      }
      for (var j = 0; j < t.count; j++) {
        if (t.type === 5) { var d = u32(o + 8 * j + 4); out.push(d ? u32(o + 8 * j) / d : NaN); }
        else if (t.type === 3) { out.push(u16(o + 2 * j)); }
        else if (t.type === 4) { out.push(u32(o + 4 * j)); }
        else { out.push(v.getUint8(start + o + j)); }
      }
      return out;
    }
    var ifd0 = ifd(u32(4)), found = {};
    if (ifd0[0x8825]) {
      var gps = ifd(value(ifd0[0x8825])[0]);
      var lat = degrees(value(gps[2]), value(gps[1])), lon = degrees(value(gps[4]), value(gps[3]));
      if (value(gps[9]) !== "V" && lat !== null && lon !== null && !(lat === 0 && lon === 0)) { found.lat = lat; found.lon = lon; }
    }
    var sub = ifd0[0x8769] ? ifd(value(ifd0[0x8769])[0]) : {};
    found.time = value(sub[0x9003]) || value(ifd0[0x0132]) || null;
    found.offset = value(sub[0x9011]) || null;
    return found;
  }

  function degrees(dms, ref) {
    if (!dms || !dms.length || !ref || !dms.every(isFinite)) { return null; }
    var d = dms[0] + (dms[1] || 0) / 60 + (dms[2] || 0) / 3600;
    return /[SW]/i.test(ref) ? -d : d;
  }

  /** {lon, lat, time, offset} from a JPEG's EXIF (fields absent when missing), or null. */
  function read(buffer) {
    try {
      var v = new DataView(buffer), off = 2;
      if (v.getUint16(0) !== 0xFFD8) { return null; }
      while (off + 10 <= v.byteLength) {
        var marker = v.getUint16(off), size = v.getUint16(off + 2);
        if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) { break; }
        if (marker === 0xFFE1 && v.getUint32(off + 4) === 0x45786966 && v.getUint16(off + 8) === 0) { return readTiff(v, off + 10); }
        off += 2 + size;
      }
    } catch (e) { return null; }
    return null;
  }

  function ascii(text) { var b = []; for (var i = 0; i < text.length; i++) { b.push(text.charCodeAt(i) & 0x7f); } b.push(0); return b; }
  function be32(n) { return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]; }
  function rationals(deg) {
    var a = Math.abs(deg), d = Math.floor(a), m = Math.floor((a - d) * 60), s = Math.round(((a - d) * 60 - m) * 60 * 10000);
    return [].concat(be32(d), be32(1), be32(m), be32(1), be32(s), be32(10000));
  }

  function ifdBytes(entries, at) {  // entries: [tag, type, count, bytes], sorted by tag
    var head = 2 + entries.length * 12 + 4, data = [], out = [(entries.length >> 8) & 255, entries.length & 255];
    entries.forEach(function (e) {
      var bytes = e[3], field;
      if (bytes.length <= 4) { field = bytes.concat([0, 0, 0, 0]).slice(0, 4); }
      else { field = be32(at + head + data.length); data = data.concat(bytes); if (data.length % 2) { data.push(0); } }
      out = out.concat([(e[0] >> 8) & 255, e[0] & 255, 0, e[1]], be32(e[2]), field);
    });
    return out.concat([0, 0, 0, 0], data);
  }

  /** A minimal APP1 EXIF segment holding the GPS position and capture time of ``info``. */
  function segment(info) {
    var hasGps = isFinite(info.lat) && isFinite(info.lon), hasTime = !!info.time;
    if (!hasGps && !hasTime) { return null; }
    var ifd0Len = 2 + 12 * ((hasGps ? 1 : 0) + (hasTime ? 1 : 0)) + 4, at = 8 + ifd0Len, ifd0 = [], parts = [];
    if (hasTime) {
      var sub = [[0x9003, 2, 20, ascii(info.time.slice(0, 19))]];
      if (info.offset) { sub.push([0x9011, 2, 7, ascii(info.offset.slice(0, 6))]); }
      ifd0.push([0x8769, 4, 1, be32(at)]);
      var subBytes = ifdBytes(sub, at); parts.push(subBytes); at += subBytes.length;
    }
    if (hasGps) {
      var gps = [[0, 1, 4, [2, 3, 0, 0]], [1, 2, 2, ascii(info.lat < 0 ? "S" : "N")], [2, 5, 3, rationals(info.lat)],
        [3, 2, 2, ascii(info.lon < 0 ? "W" : "E")], [4, 5, 3, rationals(info.lon)]];
      ifd0.push([0x8825, 4, 1, be32(at)]);
      parts.push(ifdBytes(gps, at));
    }
    ifd0.sort(function (a, b) { return a[0] - b[0]; });
    var tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8].concat(ifdBytes(ifd0, 8));
    parts.forEach(function (p) { tiff = tiff.concat(p); });
    var body = [0x45, 0x78, 0x69, 0x66, 0, 0].concat(tiff), len = body.length + 2;
    return new Uint8Array([0xFF, 0xE1, (len >> 8) & 255, len & 255].concat(body));
  }

  /** The JPEG ``buffer`` with its JFIF header replaced by an EXIF segment for ``info``. */
  function write(buffer, info) {
    var app1 = segment(info || {}), bytes = new Uint8Array(buffer);
    if (!app1) { return buffer; }
    var rest = 2;
    if (bytes[2] === 0xFF && bytes[3] === 0xE0) { rest = 4 + ((bytes[4] << 8) | bytes[5]); }
    var out = new Uint8Array(2 + app1.length + bytes.length - rest);
    out.set([0xFF, 0xD8], 0); out.set(app1, 2); out.set(bytes.subarray(rest), 2 + app1.length);
    return out.buffer;
  }

  function blobBuffer(blob) {
    if (blob.arrayBuffer) { return blob.arrayBuffer(); }
    return new Promise(function (ok, fail) {
      var r = new FileReader(); r.onload = function () { ok(r.result); }; r.onerror = fail; r.readAsArrayBuffer(blob);
    });
  }

  function decode(file) {
    return new Promise(function (ok, fail) {
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); ok(img); };
      img.onerror = function () { URL.revokeObjectURL(url); fail(new Error("decode")); };
      img.src = url;
    });
  }

  /** Read EXIF, resize to ≤ 1600 px, re-encode as JPEG with position and time: {data, type, width, height, exif}. */
  function prepare(file) {
    var exif;
    return blobBuffer(file).then(function (buffer) {
      exif = read(buffer) || {};
      return decode(file);
    }).then(function (img) {
      var w = img.naturalWidth, h = img.naturalHeight, scale = Math.min(1, MAX_PX / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (ok) { canvas.toBlob(ok, "image/jpeg", QUALITY); }).then(blobBuffer).then(function (jpeg) {
        return { data: write(jpeg, exif), type: "image/jpeg", width: canvas.width, height: canvas.height, exif: exif };
      });
    });
  }

  root.VM = root.VM || {};
  root.VM.photo = { read: read, write: write, prepare: prepare, MAX_PX: MAX_PX };
})(typeof self !== "undefined" ? self : this);
