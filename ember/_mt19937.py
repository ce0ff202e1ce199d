"""The CPU generator's engine: a 32-bit Mersenne Twister seeded and laid out as PyTorch's CPUGeneratorImpl.

The twist itself is NumPy's `MT19937` bit generator (the same algorithm, run in C); this file owns the
seeding (init_genrand of the low 32 bits of the seed), the cached normal samples PyTorch keeps beside the
words, and the 5056-byte state PyTorch's get_rng_state returns, so states move between torch and ember.
"""
import numpy as np

_N = 624
_MASK32 = 0xFFFFFFFF
# PyTorch's state bytes (the legacy THGeneratorState, then the float normal cache):
# seed u64 @0, left i32 @8, seeded i32 @12, next u64 @16, words u64[624] @24, normal_x f64 @5016,
# normal_y f64 @5024, normal_rho f64 @5032, normal_is_valid i32 @5040, next float normal f32 @5048,
# its valid flag u8 @5052.
STATE_BYTES = 5056
_LEGACY_BYTES = 5048
_WORDS_AT = 24


def _init_words(seed):
    """init_genrand: the 624 words a 32-bit seed starts from (a sequential recurrence, 624 steps)."""
    words = [seed & _MASK32]
    x = words[0]
    for j in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & _MASK32
        words.append(x)
    return np.array(words, dtype=np.uint32)


class Engine:
    """mt19937 words and the normal-sample caches of one generator."""

    __slots__ = ("seed", "bits", "next_double_normal", "next_float_normal", "_start", "_gen")

    def __init__(self, seed):
        self.bits = np.random.MT19937()
        # NOTE: NumPy's full-range integers read MT19937's words as they come: a uint32 is one word, a
        # uint64 two with the first as the high half (PyTorch's random64), and faster than random_raw.
        self._gen = np.random.Generator(self.bits)
        self.reseed(seed)

    def reseed(self, seed):
        self.seed = seed
        try:
            # NOTE: NumPy's legacy seeding is init_genrand in C (checked equal to _init_words by the tests);
            # the Python recurrence is the fallback should that private method go.
            self.bits._legacy_seeding(seed & _MASK32)
        except AttributeError:
            # NOTE: NumPy's pos is the index of the next word; 624 means "twist first", PyTorch's left_ == 1.
            self.bits.state = {"bit_generator": "MT19937", "state": {"key": _init_words(seed), "pos": _N}}
        self._start = None
        self.next_double_normal = None
        self.next_float_normal = None

    def numpy(self):
        """A NumPy Generator drawing from (and advancing) these words, for samplers not yet PyTorch's."""
        return self._gen

    def u32(self, n):
        """n 32-bit draws (PyTorch's random()), as uint32."""
        return self._gen.integers(0, 1 << 32, n, dtype=np.uint32)

    def u64(self, n):
        """n 64-bit draws (PyTorch's random64(): the first word is the high half)."""
        return self._gen.integers(0, 1 << 64, n, dtype=np.uint64)

    def to_bytes(self):
        st = self.bits.state["state"]
        pos = int(st["pos"])
        buf = bytearray(STATE_BYTES)
        buf[0:8] = int(self.seed).to_bytes(8, "little")
        buf[8:12] = (_N + 1 - pos).to_bytes(4, "little")  # left_
        buf[12:16] = (1).to_bytes(4, "little")  # seeded_
        # NOTE: at pos 624 PyTorch's next_ is 0 right after seeding and 624 once every word was read.
        if self._start is None:
            self._start = _init_words(self.seed) if pos == _N else False
        fresh = pos == _N and self._start is not False and np.array_equal(st["key"], self._start)
        buf[16:24] = (0 if fresh else pos).to_bytes(8, "little")  # next_
        buf[_WORDS_AT:_WORDS_AT + 8 * _N] = st["key"].astype("<u8").tobytes()
        if self.next_double_normal is not None:
            buf[5024:5032] = np.float64(self.next_double_normal).astype("<f8").tobytes()
            buf[5040:5044] = (1).to_bytes(4, "little")
        if self.next_float_normal is not None:
            buf[5048:5052] = np.float32(self.next_float_normal).astype("<f4").tobytes()
            buf[5052] = 1
        return bytes(buf)

    def from_bytes(self, raw):
        """Load a state PyTorch (or ember) saved; the caller checked the size."""
        left = int.from_bytes(raw[8:12], "little", signed=True)
        words = np.frombuffer(raw[_WORDS_AT:_WORDS_AT + 8 * _N], dtype="<u8").astype(np.uint32)
        nxt = int.from_bytes(raw[16:24], "little")
        # NOTE: PyTorch twists when --left_ hits 0 and otherwise reads word next_; NumPy reads word pos
        # and twists at pos == 624. left_ == 1 means twist now; else next_ is where reading resumes.
        pos = _N if left <= 1 else nxt
        self.seed = int.from_bytes(raw[0:8], "little")
        self._start = words if left <= 1 and nxt == 0 else False
        self.bits.state = {"bit_generator": "MT19937", "state": {"key": words, "pos": pos}}
        valid = int.from_bytes(raw[5040:5044], "little")
        self.next_double_normal = float(np.frombuffer(raw[5024:5032], "<f8")[0]) if valid else None
        self.next_float_normal = None
        if len(raw) == STATE_BYTES and raw[5052]:
            self.next_float_normal = float(np.frombuffer(raw[5048:5052], "<f4")[0])
