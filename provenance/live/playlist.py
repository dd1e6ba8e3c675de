"""HLS media playlists for a stamped stream: written as segments appear, read back to verify.

The playlist is an EVENT playlist while the stream runs (every segment since the start
stays listed, so a late viewer and a verifier see the whole stream) and gains
``#EXT-X-ENDLIST`` when it ends. Segments are fragmented MP4 with the init segment named
by ``#EXT-X-MAP`` (HLS version 7). A DASH MPD listing the same files is written beside it
when the stream ends (``spec/live.md``).

Only local playlists are read: segment URIs are paths relative to the playlist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .._internal.files import read_input, write_atomic
from ..errors import InputError

__all__ = ["Playlist", "PlaylistEntry", "read_playlist", "render_mpd", "render_playlist"]


@dataclass(frozen=True)
class PlaylistEntry:
    """One media segment: its file name (relative to the playlist) and duration."""

    uri: str
    duration_s: float


@dataclass
class Playlist:
    """An HLS media playlist of one fMP4 stream."""

    init_uri: str
    target_s: int
    first_sequence: int = 1
    entries: list[PlaylistEntry] = field(default_factory=list)
    ended: bool = False
    playlist_type: str | None = "EVENT"

    def write(self, path: Path) -> None:
        """Write the playlist atomically (a player never reads half of it)."""
        write_atomic(path, render_playlist(self).encode(), force=True)


def render_playlist(playlist: Playlist) -> str:
    target = max([playlist.target_s, *(math.ceil(e.duration_s) for e in playlist.entries)])
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{playlist.first_sequence}",
    ]
    if playlist.playlist_type:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{playlist.playlist_type}")
    lines += ["#EXT-X-INDEPENDENT-SEGMENTS", f'#EXT-X-MAP:URI="{playlist.init_uri}"']
    for entry in playlist.entries:
        lines += [f"#EXTINF:{entry.duration_s:.6f},", entry.uri]
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def render_mpd(
    *,
    init_uri: str,
    media_template: str,
    first_sequence: int,
    durations_s: Sequence[float],
    width: int,
    height: int,
    fps: Fraction,
    codecs: str,
) -> str:
    """A static DASH MPD (ISO/IEC 23009-1) for the finished stream: a SegmentTemplate with
    a SegmentTimeline, in milliseconds."""
    total = sum(durations_s)
    timeline = "".join(f'<S d="{round(d * 1000)}"/>' for d in durations_s)
    rate = f"{fps.numerator}/{fps.denominator}" if fps.denominator != 1 else str(fps.numerator)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" '
        f'mediaPresentationDuration="PT{total:.3f}S">\n'
        ' <Period id="0" start="PT0S">\n'
        '  <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true">\n'
        f'   <Representation id="0" codecs="{codecs}" width="{width}" height="{height}" '
        f'frameRate="{rate}" bandwidth="2000000">\n'
        f'    <SegmentTemplate timescale="1000" initialization="{init_uri}" '
        f'media="{media_template}" startNumber="{first_sequence}">\n'
        f"     <SegmentTimeline>{timeline}</SegmentTimeline>\n"
        "    </SegmentTemplate>\n"
        "   </Representation>\n"
        "  </AdaptationSet>\n"
        " </Period>\n"
        "</MPD>\n"
    )


@dataclass(frozen=True)
class ReadPlaylist:
    """A parsed local playlist: the init segment and the segments, as paths."""

    path: Path
    init: Path
    segments: list[Path]
    ended: bool
    playlist_type: str | None
    first_sequence: int


def read_playlist(path: Path) -> ReadPlaylist:
    """Parse a local HLS media playlist of one fMP4 stream.

    Raises:
        InputError: unreadable, not an HLS playlist, a master playlist, no ``#EXT-X-MAP``,
            or a remote (http/https) URI.
    """
    text = read_input(path).decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise InputError(f"{path}: not an HLS playlist (no #EXTM3U)")
    init: str | None = None
    segments: list[str] = []
    ended, kind, first = False, None, 0
    for line in lines[1:]:
        if line.startswith("#EXT-X-STREAM-INF"):
            raise InputError(f"{path}: a master playlist; give the media playlist")
        if line.startswith("#EXT-X-MAP:"):
            init = _attribute(line, "URI", path)
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            kind = line.split(":", 1)[1]
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            first = _integer(line.split(":", 1)[1], path)
        elif not line.startswith("#"):
            segments.append(line)
    if init is None:
        raise InputError(f"{path}: no #EXT-X-MAP init segment (only fragmented MP4 is verified)")
    return ReadPlaylist(
        path=path,
        init=_local(init, path),
        segments=[_local(uri, path) for uri in segments],
        ended=ended,
        playlist_type=kind,
        first_sequence=first,
    )


def _attribute(line: str, name: str, path: Path) -> str:
    for part in line.split(":", 1)[1].split(","):
        key, _, value = part.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    raise InputError(f"{path}: {line.split(':', 1)[0]} has no {name}")


def _integer(text: str, path: Path) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InputError(f"{path}: '{text}' is not a sequence number") from exc


def _local(uri: str, playlist: Path) -> Path:
    if "://" in uri:
        raise InputError(f"{playlist}: {uri} is remote; only local playlists are verified")
    return playlist.parent / uri
