//! Decoding pictures within budgets, for uploads' thumbnails and for avatars alike:
//!
//! - the header is read first: wider or higher than MAX_IMAGE_SIDE_PX is refused;
//! - the memory the decoder will need (width × height × bytes per pixel, at least 4, plus the
//!   encoded bytes for JPEG, which is decoded from memory) must fit MAX_IMAGE_DECODE_BYTES;
//! - that memory is then reserved from one budget shared by every request,
//!   IMAGE_DECODE_BUDGET_BYTES (a semaphore counting KiB): decodes that do not fit wait their
//!   turn, in order, so that many uploads at once cannot take more memory than that;
//! - JPEG is decoded by zune-jpeg in strict mode (the `image` crate runs it lenient, filling a
//!   truncated or damaged scan with grey), so a damaged JPEG is refused like any other.
//!
//! Decoding runs on a blocking thread that holds its reservation until it ends, even when the
//! request that started it is gone.

use super::FileError;
use crate::app::App;
use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat};
use std::io::{BufRead, Cursor, Seek};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The picture format the first bytes announce: PNG, JPEG, GIF or WebP.
pub fn sniff(head: &[u8]) -> Option<ImageFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// The decoder memory every request shares, counted in KiB.
#[derive(Debug)]
pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    total_kib: u64,
}

impl DecodeBudget {
    pub fn new(total_bytes: u64) -> Self {
        let total_kib = total_bytes.div_ceil(1024).min(Semaphore::MAX_PERMITS as u64);
        Self { permits: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }

    /// Waits until `bytes` are free and holds them until the permit is dropped. More than
    /// the whole budget is refused at once.
    pub async fn reserve(&self, bytes: u64) -> Result<OwnedSemaphorePermit, FileError> {
        let kib = bytes.div_ceil(1024).max(1);
        if kib > self.total_kib {
            return Err(FileError::TooLargeToDecode);
        }
        let kib = u32::try_from(kib).map_err(|_| FileError::TooLargeToDecode)?;
        self.permits.clone().acquire_many_owned(kib).await.map_err(|_| FileError::ShuttingDown)
    }

    /// KiB not reserved at the moment.
    #[cfg(test)]
    fn free_kib(&self) -> usize {
        self.permits.available_permits()
    }
}

/// Where an encoded picture is.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Memory(Bytes),
}

trait Input: BufRead + Seek + Send {}
impl<T: BufRead + Seek + Send> Input for T {}

impl Source {
    fn reader(&self) -> Result<Box<dyn Input>, FileError> {
        Ok(match self {
            Source::File(path) => Box::new(std::io::BufReader::new(std::fs::File::open(path)?)),
            Source::Memory(bytes) => Box::new(Cursor::new(bytes.clone())),
        })
    }

    fn bytes(&self) -> Result<Bytes, FileError> {
        Ok(match self {
            Source::File(path) => Bytes::from(std::fs::read(path)?),
            Source::Memory(bytes) => bytes.clone(),
        })
    }

    fn len(&self) -> Result<u64, FileError> {
        Ok(match self {
            Source::File(path) => std::fs::metadata(path)?.len(),
            Source::Memory(bytes) => bytes.len() as u64,
        })
    }
}

/// The limits of one decode.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_side: u32,
    max_alloc: u64,
}

/// What a picture's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    width: u32,
    height: u32,
    /// Bytes of memory the decoder needs.
    need: u64,
}

/// Decodes the picture in `source` within the limits and budgets, then runs `work` on it,
/// both on a blocking thread. Returns the picture's width and height and what `work` made.
pub async fn decode_with<T, W>(
    app: &App,
    source: Source,
    format: ImageFormat,
    work: W,
) -> Result<(u32, u32, T), FileError>
where
    T: Send + 'static,
    W: FnOnce(DynamicImage) -> Result<T, FileError> + Send + 'static,
{
    let config = &app.config;
    let limits = Limits { max_side: config.max_image_side_px, max_alloc: config.max_image_decode_bytes };
    let probed = source.clone();
    let header = blocking(move || probe(&probed, format)).await?;
    let Header { width, height, need } = header;
    if width > limits.max_side || height > limits.max_side {
        return Err(FileError::TooManyPixels { width, height, max: limits.max_side });
    }
    if need > limits.max_alloc {
        return Err(FileError::TooLargeToDecode);
    }
    let permit = tokio::select! {
        permit = app.decode_budget.reserve(need) => permit?,
        _ = app.shutdown.cancelled() => return Err(FileError::ShuttingDown),
    };
    let made = blocking(move || {
        let _held = permit;
        let picture = decode(&source, format, limits)?;
        if (picture.width(), picture.height()) != (width, height) {
            return Err(FileError::Damaged("the picture's size differs from its header's".to_owned()));
        }
        work(picture)
    })
    .await?;
    Ok((width, height, made))
}

async fn blocking<T: Send + 'static>(
    run: impl FnOnce() -> Result<T, FileError> + Send + 'static,
) -> Result<T, FileError> {
    tokio::task::spawn_blocking(run)
        .await
        .map_err(|err| FileError::Damaged(format!("the decoder failed: {err}")))?
}

/// Reads the header: the size and the memory a decode needs.
fn probe(source: &Source, format: ImageFormat) -> Result<Header, FileError> {
    let (width, height, bytes_per_pixel, extra) = if format == ImageFormat::Jpeg {
        let bytes = source.bytes()?;
        let options = strict_jpeg(u32::MAX);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(&bytes[..]), options);
        decoder.decode_headers().map_err(|err| FileError::Damaged(err.to_string()))?;
        let (width, height) =
            decoder.dimensions().ok_or_else(|| FileError::Damaged("no JPEG frame header".to_owned()))?;
        // The whole file is held in memory while it is decoded.
        (width as u32, height as u32, 3, source.len()?)
    } else {
        let reader = image::ImageReader::with_format(source.reader()?, format);
        let decoder = reader.into_decoder().map_err(decode_error)?;
        let (width, height) = decoder.dimensions();
        (width, height, u64::from(decoder.color_type().bytes_per_pixel()), 0)
    };
    let need = u64::from(width)
        .saturating_mul(u64::from(height))
        .saturating_mul(bytes_per_pixel.max(4))
        .saturating_add(extra);
    Ok(Header { width, height, need })
}

/// Decodes the whole picture (the first frame of an animation).
fn decode(source: &Source, format: ImageFormat, limits: Limits) -> Result<DynamicImage, FileError> {
    if format == ImageFormat::Jpeg {
        let bytes = source.bytes()?;
        let options = strict_jpeg(limits.max_side);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(&bytes[..]), options);
        let pixels = decoder.decode().map_err(|err| FileError::Damaged(err.to_string()))?;
        let (width, height) =
            decoder.dimensions().ok_or_else(|| FileError::Damaged("no JPEG frame header".to_owned()))?;
        let rgb = image::RgbImage::from_raw(width as u32, height as u32, pixels)
            .ok_or_else(|| FileError::Damaged("the JPEG decoded to fewer pixels than its size".to_owned()))?;
        return Ok(DynamicImage::ImageRgb8(rgb));
    }
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    image_limits.max_alloc = Some(limits.max_alloc);
    let mut reader = image::ImageReader::with_format(source.reader()?, format);
    reader.limits(image_limits);
    reader.decode().map_err(decode_error)
}

/// zune-jpeg's options: strict (a truncated or damaged scan is an error, not grey), RGB out.
fn strict_jpeg(max_side: u32) -> zune_core::options::DecoderOptions {
    zune_core::options::DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(max_side as usize)
        .set_max_height(max_side as usize)
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB)
}

fn decode_error(err: image::ImageError) -> FileError {
    match err {
        image::ImageError::Limits(_) => FileError::TooLargeToDecode,
        image::ImageError::IoError(err) if err.kind() != std::io::ErrorKind::UnexpectedEof => {
            FileError::Io(err)
        }
        other => FileError::Damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn sniffing_knows_the_four_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageFormat::Png));
        assert_eq!(sniff(b"GIF89a"), Some(ImageFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::WebP));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"hello"), None);
    }

    #[tokio::test]
    async fn the_budget_makes_decodes_wait_their_turn() {
        let budget = DecodeBudget::new(10 * 1024);
        let first = budget.reserve(6 * 1024).await.expect("fits");
        assert_eq!(budget.free_kib(), 4);
        // Does not fit beside the first: waits, holding nothing...
        let mut second = pin!(budget.reserve(6 * 1024));
        assert!(poll_once(second.as_mut()).is_pending());
        // ...until the first ends.
        drop(first);
        let second = match poll_once(second.as_mut()) {
            Poll::Ready(permit) => permit.expect("fits now"),
            Poll::Pending => panic!("the second decode should have its turn"),
        };
        assert_eq!(budget.free_kib(), 4);
        drop(second);
        assert_eq!(budget.free_kib(), 10);
        // More than the whole budget never fits: refused at once.
        assert!(matches!(budget.reserve(10 * 1024 + 1).await, Err(FileError::TooLargeToDecode)));
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 7) as u8, (y * 3) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).expect("encode");
        out.into_inner()
    }

    fn decoded(bytes: Vec<u8>) -> Result<DynamicImage, FileError> {
        let source = Source::Memory(Bytes::from(bytes));
        probe(&source, ImageFormat::Jpeg)?;
        decode(&source, ImageFormat::Jpeg, Limits { max_side: 4096, max_alloc: 1 << 30 })
    }

    #[test]
    fn damaged_jpegs_are_refused() {
        let whole = jpeg(256, 256);
        let picture = decoded(whole.clone()).expect("a whole JPEG decodes");
        assert_eq!((picture.width(), picture.height()), (256, 256));
        // Where the scan starts: after the SOS marker's header.
        let sos = whole.windows(2).position(|w| w == [0xFF, 0xDA]).expect("a scan");
        let scan = sos + 2 + usize::from(u16::from_be_bytes([whole[sos + 2], whole[sos + 3]]));
        let header_only = whole[..scan].to_vec();
        let cut = whole[..scan + (whole.len() - scan) / 2].to_vec();
        let mut noise = whole.clone();
        let mut x = 0x2545_F491u32;
        for byte in &mut noise[scan..whole.len() - 2] {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *byte = x as u8;
        }
        for (what, bytes) in [("header only", header_only), ("cut mid-scan", cut), ("random scan", noise)] {
            assert!(matches!(decoded(bytes), Err(FileError::Damaged(_))), "{what} should be refused");
        }
    }
}
