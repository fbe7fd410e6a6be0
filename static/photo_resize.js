// Make a phone photo small before it is sent: at most MAX_SIDE pixels on its long side, as a JPEG.
// A 12-megapixel, 5 MB camera photo becomes about 200 KB, which a weak rural network can carry; the server
// keeps at most 1600 px of it anyway. Usable by any page:
//   import { resizePhoto } from "/static/photo_resize.js";
//   const blob = await resizePhoto(input.files[0]);

export const MAX_SIDE = 1600;
export const QUALITY = 0.8;
// A photo still larger than this at QUALITY (very detailed scenes) is encoded again at a lower quality.
export const MAX_BYTES = 350 * 1024;
const LOWEST_QUALITY = 0.5;

// The size that fits maxSide on the longer side, keeping the proportions and never enlarging.
export function fittedSize(width, height, maxSide = MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

// The photo as a JPEG Blob no larger than needed; rejects when the file is not an image the browser can read.
export async function resizePhoto(file, { maxSide = MAX_SIDE, quality = QUALITY, maxBytes = MAX_BYTES } = {}) {
  const image = await decode(file);
  const size = fittedSize(image.width, image.height, maxSide);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(image, 0, 0, size.width, size.height);
  if (image.close) image.close();
  let blob = await encode(canvas, quality);
  for (let q = quality - 0.1; blob.size > maxBytes && q >= LOWEST_QUALITY - 1e-9; q -= 0.1) {
    blob = await encode(canvas, q);
  }
  return blob;
}

// The decoded image, turned upright as the camera's orientation tag says.
async function decode(file) {
  if (window.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (unsupportedOptions) {
      // older browsers: an <img> below
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function encode(canvas, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), "image/jpeg", quality);
  });
}
