import sharp from 'sharp';

// sharp as the evidence code uses it. Uploads are many small pictures analysed side by side on libuv's threads, so
// each picture gets one libvips thread (no hand-offs between threads) and libvips keeps no cache of operations (every
// upload is new bytes: the cache is only bookkeeping). Together ~0.8 ms less CPU per 640×480 photo's analysis, four
// at a time: 8.0–8.1 → 7.2 ms (bench/README.md, "Eighth session").
sharp.cache(false);
sharp.concurrency(1);

export default sharp;
