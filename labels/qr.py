"""QR encoding: payload → module matrix, packed one bit per module, rows padded to whole bytes.

Bulk encoding uses libzint (zint-bindings), which picks the optimal modes (an upper-case URL is encoded
in alphanumeric mode) and evaluates all eight masks, at about a fifth of a millisecond a code: python-qrcode
takes 3.9 ms with mask selection. Runs use a process pool, one process per core the process may use.
"""
import multiprocessing
import os
from dataclasses import dataclass
from typing import Sequence

import zint

ECC_LEVELS = {"L": 1, "M": 2, "Q": 3, "H": 4}
QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard requires


@dataclass(frozen=True)
class QRMatrix:
    size: int  # modules per side, without the quiet zone
    bits: bytes  # rows top to bottom, 1 = dark, each row padded to a whole byte

    def is_dark(self, row: int, column: int) -> bool:
        """Whether a module is dark (row and column from the top left)."""
        stride = (self.size + 7) // 8
        return bool(self.bits[row * stride + column // 8] & (0x80 >> (column % 8)))


def _symbol(ecc: str) -> zint.Symbol:
    if ecc not in ECC_LEVELS:
        raise ValueError(f"Unknown QR error correction level {ecc!r}: use L, M, Q or H.")
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = ECC_LEVELS[ecc]
    return symbol


# zint keeps each row least significant bit first; PDF images want the most significant bit first.
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_ZINT_ROW_BYTES = 144


def _pack(symbol: zint.Symbol) -> QRMatrix:
    size, stride = symbol.rows, (symbol.rows + 7) // 8
    raw = bytes(memoryview(symbol.encoded_data)[: size])
    tail_mask = (0xFF << (-size % 8)) & 0xFF  # clear bits past the last module
    out = bytearray()
    for row in range(size):
        line = bytearray(raw[row * _ZINT_ROW_BYTES: row * _ZINT_ROW_BYTES + stride].translate(_REVERSED_BITS))
        line[-1] &= tail_mask
        out += line
    return QRMatrix(size, bytes(out))


def _encode_with(symbol: zint.Symbol, payload: str) -> QRMatrix:
    symbol.clear()  # zint ORs new modules into the old ones otherwise
    symbol.encode(payload)
    return _pack(symbol)


def encode(payload: str, ecc: str = "M") -> QRMatrix:
    symbol = _symbol(ecc)
    symbol.encode(payload)
    return _pack(symbol)


def _encode_chunk(args: tuple[Sequence[str], str]) -> list[QRMatrix]:
    payloads, ecc = args
    symbol = _symbol(ecc)
    return [_encode_with(symbol, payload) for payload in payloads]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, a container's cpuset), which
    os.cpu_count ignores, so that a worker pinned to one core does not start a pool for the whole machine."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity outside Linux
        return os.cpu_count() or 1


class Encoder:
    """Encodes batches of payloads on every usable core; submit one batch while the previous one is drawn."""

    def __init__(self, ecc: str = "M", workers: int | None = None):
        self.ecc = ecc
        _symbol(ecc)  # refuse an unknown level before starting processes
        self.workers = workers if workers is not None else usable_cores()
        self._pool = None
        if self.workers > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self._pool = multiprocessing.get_context(method).Pool(self.workers)

    def submit(self, payloads: Sequence[str]):
        """Start encoding; call .get() on the result for the matrices, in order."""
        if self._pool is None:
            return _Done(_encode_chunk((payloads, self.ecc)))
        size = max(1, len(payloads) // self.workers + 1)
        chunks = [(payloads[i:i + size], self.ecc) for i in range(0, len(payloads), size)]
        return _Joined(self._pool.map_async(_encode_chunk, chunks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None and self._pool is not None:
            self._pool.terminate()
        self.close()


class _Done:
    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


class _Joined:
    def __init__(self, result):
        self.result = result

    def get(self) -> list[QRMatrix]:
        return [matrix for chunk in self.result.get() for matrix in chunk]
