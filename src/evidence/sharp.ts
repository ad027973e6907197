import sharp from 'sharp';

// sharp as the evidence code uses it. Uploads are many small pictures analysed side by side on libuv's threads, so
// each picture gets one libvips thread (no hand-offs between threads; sharp's default on glibc Linux already, set
// here for the platforms where it is one per core) and libvips keeps no cache of operations (every upload is new
// bytes: the cache is only bookkeeping). Four analyses at a time, CPU per 640×480 photo: 7.5–7.7 ms with the cache,
// 7.2 ms without; 8.0–8.1 ms with two threads each (measured 2026-11-28, bench/README.md design decisions).
sharp.cache(false);
sharp.concurrency(1);

export default sharp;
