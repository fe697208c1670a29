//! Image format and pixel size from the first bytes of a PNG, JPEG or WebP file, with no
//! decoder: the bot refuses a decompression bomb (a small file that decodes to gigabytes)
//! before the bytes reach a worker, and without linking an image library into the bot side.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Webp => "WebP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// The format and size the header claims, or a sentence saying why it cannot be read.
pub fn read(bytes: &[u8]) -> Result<ImageInfo, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(bytes)
    } else {
        Err("not a PNG, JPEG or WebP image".into())
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn png(b: &[u8]) -> Result<ImageInfo, String> {
    // The first chunk must be IHDR: length 13, then width and height, big-endian.
    if b.get(12..16) != Some(b"IHDR") {
        return Err("PNG without an IHDR header".into());
    }
    match (be32(b, 16), be32(b, 20)) {
        (Some(width), Some(height)) => Ok(ImageInfo {
            format: ImageFormat::Png,
            width,
            height,
        }),
        _ => Err("PNG header cut short".into()),
    }
}

fn jpeg(b: &[u8]) -> Result<ImageInfo, String> {
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(at), b.get(at + 1)) else {
            return Err("JPEG without a frame header (SOF) before the image data".into());
        };
        at += 2;
        match marker {
            // Stand-alone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => {
                return Err("JPEG without a frame header (SOF) before the image data".into())
            }
            // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return match (be16(b, at + 3), be16(b, at + 5)) {
                    (Some(height), Some(width)) => Ok(ImageInfo {
                        format: ImageFormat::Jpeg,
                        width: u32::from(width),
                        height: u32::from(height),
                    }),
                    _ => Err("JPEG frame header cut short".into()),
                };
            }
            _ => {
                let Some(len) = be16(b, at) else {
                    return Err("JPEG header cut short".into());
                };
                at += usize::from(len);
            }
        }
    }
}

fn webp(b: &[u8]) -> Result<ImageInfo, String> {
    let short = || "WebP header cut short".to_string();
    let info = |width: u32, height: u32| ImageInfo {
        format: ImageFormat::Webp,
        width,
        height,
    };
    match b.get(12..16) {
        Some(b"VP8 ") => {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
            if b.get(23..26) != Some(&[0x9d, 0x01, 0x2a]) {
                return Err("WebP (VP8) without its start code".into());
            }
            let w = le16(b, 26).ok_or_else(short)? & 0x3FFF;
            let h = le16(b, 28).ok_or_else(short)? & 0x3FFF;
            Ok(info(u32::from(w), u32::from(h)))
        }
        Some(b"VP8L") => {
            if b.get(20) != Some(&0x2f) {
                return Err("WebP (VP8L) without its signature".into());
            }
            let bits = u32::from_le_bytes(b.get(21..25).ok_or_else(short)?.try_into().unwrap());
            Ok(info((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        Some(b"VP8X") => {
            let w = le24(b, 24).ok_or_else(short)? + 1;
            let h = le24(b, 27).ok_or_else(short)? + 1;
            Ok(info(w, h))
        }
        _ => Err("WebP with an unknown first chunk".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn png_size() {
        let i = read(&png_header(750, 1334)).unwrap();
        assert_eq!((i.format, i.width, i.height), (ImageFormat::Png, 750, 1334));
    }

    #[test]
    fn jpeg_size_after_app_segments() {
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xFF, 0xC2, 0, 11, 8,
        ];
        b.extend_from_slice(&600u16.to_be_bytes());
        b.extend_from_slice(&400u16.to_be_bytes());
        let i = read(&b).unwrap();
        assert_eq!((i.format, i.width, i.height), (ImageFormat::Jpeg, 400, 600));
    }

    #[test]
    fn webp_sizes() {
        let mut lossless = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits: u32 = (99) | (199 << 14);
        lossless.extend_from_slice(&bits.to_le_bytes());
        let i = read(&lossless).unwrap();
        assert_eq!((i.width, i.height), (100, 200));
        let mut ext = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
        ext.extend_from_slice(&[0x0F, 0x27, 0x00, 0x1F, 0x4E, 0x00]);
        let i = read(&ext).unwrap();
        assert_eq!((i.width, i.height), (10_000, 20_000));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        for b in [
            &b""[..],
            b"GIF89a",
            b"\x89PNG\r\n\x1a\n",
            &[0xFF, 0xD8],
            &[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF],
            b"RIFF\0\0\0\0WEBPVP8 ",
        ] {
            assert!(read(b).is_err(), "{b:?}");
        }
    }
}
