//! The pipe between the bot and `kotae ocr-worker`: each message is a 4-byte little-endian
//! length and that many bytes; the bot sends an image, the worker answers with the JSON of a
//! `Result<OcrText, OcrError>`. A length over the cap ends the conversation, so a confused
//! peer cannot make the other side allocate gigabytes.

use std::io::{self, Read, Write};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{OcrError, OcrText};

/// The largest frame either side accepts: the byte cap of an image, with room to spare.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

pub type Reply = Result<OcrText, OcrError>;

fn too_long(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("frame of {len} bytes is over {MAX_FRAME}"),
    )
}

/// Blocking read of one frame; `None` at a clean end of input.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(too_long(len));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

pub fn write_frame(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.len() > MAX_FRAME {
        return Err(too_long(bytes.len()));
    }
    w.write_all(&(bytes.len() as u32).to_le_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

pub async fn read_frame_async(r: &mut (impl AsyncReadExt + Unpin)) -> io::Result<Vec<u8>> {
    let len = r.read_u32_le().await? as usize;
    if len > MAX_FRAME {
        return Err(too_long(len));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    Ok(buf)
}

pub async fn write_frame_async(
    w: &mut (impl AsyncWriteExt + Unpin),
    bytes: &[u8],
) -> io::Result<()> {
    if bytes.len() > MAX_FRAME {
        return Err(too_long(bytes.len()));
    }
    w.write_u32_le(bytes.len() as u32).await?;
    w.write_all(bytes).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"abc").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"abc");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r).unwrap().is_none());
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        let buf = u32::MAX.to_le_bytes();
        assert!(read_frame(&mut &buf[..]).is_err());
    }
}
