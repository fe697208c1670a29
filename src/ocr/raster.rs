//! Decoding PNG, JPEG and WebP to 8-bit RGB, and the two operations the models need (crop,
//! bilinear resize), with the decoders' own crates rather than `image`, whose colour
//! management stack would more than double the OCR build time.

use std::io::Cursor;

use super::{ImageFormat, Limits, OcrError};

/// An 8-bit RGB image, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

fn decode_err(format: ImageFormat, e: impl std::fmt::Display) -> OcrError {
    OcrError::Decode(format!("{}: {e}", format.name()))
}

/// Decodes with each decoder's own allocation limit too, in case the data and the header
/// (already checked by [`Limits::check`]) disagree.
pub fn decode(bytes: &[u8], format: ImageFormat, limits: &Limits) -> Result<Rgb, OcrError> {
    let budget = usize::try_from(limits.max_pixels.saturating_mul(4))
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);
    let (width, height, channels, data) = match format {
        ImageFormat::Png => {
            let mut d =
                png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: budget });
            // Palette and low bit depths to 8 bits, 16 bits down to 8.
            d.set_transformations(png::Transformations::normalize_to_color8());
            let mut reader = d.read_info().map_err(|e| decode_err(format, e))?;
            let size = reader
                .output_buffer_size()
                .filter(|&s| s <= budget)
                .ok_or_else(|| decode_err(format, "image too large"))?;
            let mut buf = vec![0; size];
            let info = reader
                .next_frame(&mut buf)
                .map_err(|e| decode_err(format, e))?;
            buf.truncate(info.buffer_size());
            let channels = match info.color_type {
                png::ColorType::Grayscale => 1,
                png::ColorType::GrayscaleAlpha => 2,
                png::ColorType::Rgb => 3,
                png::ColorType::Rgba => 4,
                png::ColorType::Indexed => {
                    return Err(decode_err(format, "palette left unexpanded"))
                }
            };
            (info.width, info.height, channels, buf)
        }
        ImageFormat::Jpeg => {
            use zune_jpeg::zune_core::bytestream::ZCursor;
            use zune_jpeg::zune_core::colorspace::ColorSpace;
            use zune_jpeg::zune_core::options::DecoderOptions;
            let options = DecoderOptions::default()
                .jpeg_set_out_colorspace(ColorSpace::RGB)
                .set_max_width(limits.max_side as usize)
                .set_max_height(limits.max_side as usize);
            let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
            let pixels = d.decode().map_err(|e| decode_err(format, e))?;
            let info = d
                .info()
                .ok_or_else(|| decode_err(format, "no frame header"))?;
            (u32::from(info.width), u32::from(info.height), 3, pixels)
        }
        ImageFormat::Webp => {
            let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes))
                .map_err(|e| decode_err(format, e))?;
            d.set_memory_limit(budget);
            let (w, h) = d.dimensions();
            let channels = if d.has_alpha() { 4 } else { 3 };
            let size = d
                .output_buffer_size()
                .filter(|&s| s <= budget)
                .ok_or_else(|| decode_err(format, "image too large"))?;
            let mut buf = vec![0; size];
            d.read_image(&mut buf).map_err(|e| decode_err(format, e))?;
            (w, h, channels, buf)
        }
    };
    let pixels = width as usize * height as usize;
    if data.len() < pixels * channels {
        return Err(decode_err(format, "fewer pixels than the header says"));
    }
    let data = match channels {
        3 => data,
        1 | 2 => data
            .chunks_exact(channels)
            .take(pixels)
            .flat_map(|p| [p[0]; 3])
            .collect(),
        // Transparency over white, as a chat client shows it.
        _ => data
            .chunks_exact(4)
            .take(pixels)
            .flat_map(|p| {
                let a = u16::from(p[3]);
                let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
                [over(p[0]), over(p[1]), over(p[2])]
            })
            .collect(),
    };
    Ok(Rgb {
        width,
        height,
        data,
    })
}

impl Rgb {
    /// The pixel at (x, y) as [r, g, b].
    pub fn get(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Bilinear resize of the region (x0, y0, w, h) to (tw, th), as OpenCV's INTER_LINEAR,
    /// which PaddleOCR's preprocessing uses: pixel centres aligned, edges clamped.
    pub fn resize_region(&self, x0: u32, y0: u32, w: u32, h: u32, tw: u32, th: u32) -> Rgb {
        let (sx, sy) = (w as f32 / tw as f32, h as f32 / th as f32);
        let mut data = Vec::with_capacity(tw as usize * th as usize * 3);
        let max_x = (x0 + w).min(self.width) - 1;
        let max_y = (y0 + h).min(self.height) - 1;
        let cols: Vec<(u32, u32, f32)> = (0..tw)
            .map(|x| {
                let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
                let ix = fx.floor() as u32;
                let a = (x0 + ix).min(max_x);
                let b = (x0 + ix + 1).min(max_x);
                (a, b, fx - ix as f32)
            })
            .collect();
        for y in 0..th {
            let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
            let iy = fy.floor() as u32;
            let (ya, yb, wy) = (
                (y0 + iy).min(max_y),
                (y0 + iy + 1).min(max_y),
                fy - iy as f32,
            );
            for &(xa, xb, wx) in &cols {
                let (p00, p01) = (self.get(xa, ya), self.get(xb, ya));
                let (p10, p11) = (self.get(xa, yb), self.get(xb, yb));
                for c in 0..3 {
                    let top = f32::from(p00[c]) * (1.0 - wx) + f32::from(p01[c]) * wx;
                    let bottom = f32::from(p10[c]) * (1.0 - wx) + f32::from(p11[c]) * wx;
                    data.push((top * (1.0 - wy) + bottom * wy).round() as u8);
                }
            }
        }
        Rgb {
            width: tw,
            height: th,
            data,
        }
    }

    pub fn resize(&self, tw: u32, th: u32) -> Rgb {
        self.resize_region(0, 0, self.width, self.height, tw, th)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_flat_colour_and_halves() {
        let img = Rgb {
            width: 4,
            height: 2,
            data: [10u8, 20, 30].repeat(8),
        };
        let r = img.resize(2, 1);
        assert_eq!((r.width, r.height), (2, 1));
        assert_eq!(r.data, [10, 20, 30, 10, 20, 30]);
        let region = img.resize_region(1, 0, 2, 2, 5, 5);
        assert_eq!(region.data.len(), 75);
    }

    #[test]
    fn a_png_decodes_and_a_broken_one_is_an_error() {
        let mut bytes = Vec::new();
        {
            let mut e = png::Encoder::new(&mut bytes, 2, 1);
            e.set_color(png::ColorType::Rgba);
            let mut w = e.write_header().unwrap();
            w.write_image_data(&[255, 0, 0, 255, 0, 0, 0, 0]).unwrap();
        }
        let img = decode(&bytes, ImageFormat::Png, &Limits::default()).unwrap();
        assert_eq!(img.data, [255, 0, 0, 255, 255, 255]);
        bytes.truncate(bytes.len() - 20);
        assert!(matches!(
            decode(&bytes, ImageFormat::Png, &Limits::default()),
            Err(OcrError::Decode(_))
        ));
    }
}
