"""torch.quasirandom: SobolEngine, the low-discrepancy Sobol' sequence (Joe and Kuo's direction numbers, Gray-code
order, 30 bits), optionally scrambled (linear matrix scrambling and a digital shift)."""
import numpy as np

from . import _sobol_table

__all__ = ["SobolEngine"]

_ROWS = [[int(v) for v in line.split()] for line in _sobol_table.ROWS.split("\n") if line]


def _direction_numbers(dimension, maxbit):
    """(dimension, maxbit) int64: v[d, k] = m_{k+1} << (maxbit - k - 1), the m's extended by the recurrence of
    dimension d's primitive polynomial (dimension 0: every m is 1)."""
    v = np.zeros((dimension, maxbit), dtype=np.int64)
    v[0] = 1
    for d in range(1, dimension):
        s, a, *m = _ROWS[d - 1]
        m = m + [0] * (maxbit - s)
        for k in range(s, maxbit):
            value = m[k - s] ^ (m[k - s] << s)
            for i in range(1, s):
                if (a >> (s - 1 - i)) & 1:  # NOTE: a's bits, most significant first, are the inner coefficients
                    value ^= m[k - i] << i
            m[k] = value
        v[d] = m[:maxbit]
    return v << np.arange(maxbit - 1, -1, -1, dtype=np.int64)


def _gray(i):
    return i ^ (i >> 1)


class SobolEngine:
    """Draws points of a (scrambled) Sobol' sequence in [0, 1)^dimension; unscrambled draws equal PyTorch's.
    NOTE: ember carries the first 1024 dimensions of the direction-number table (PyTorch: 21201)."""

    MAXBIT = 30
    MAXDIM = len(_ROWS) + 1

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        import ember
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self._v = _direction_numbers(dimension, self.MAXBIT)
        self._shift = np.zeros(dimension, dtype=np.int64)
        if scramble:
            self._scramble()
        self._quasi = self._shift.copy()
        # NOTE: as PyTorch, the first point is made in the default dtype now and cast when drawn
        self._first_point = (ember.from_numpy(self._quasi.copy()) / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    # --- PyTorch's attributes, as tensors ------------------------------------------------------------
    @property
    def sobolstate(self):
        import ember
        return ember.from_numpy(self._v.copy())

    @property
    def shift(self):
        import ember
        return ember.from_numpy(self._shift.copy())

    @property
    def quasi(self):
        import ember
        return ember.from_numpy(self._quasi.copy())

    def _scramble(self):
        """A random lower-triangular bit matrix with unit diagonal per dimension mixes each direction number's bits
        (most significant first), and a random digital shift is XORed into every point."""
        import ember
        g = ember.Generator()
        if self.seed is not None:
            g.manual_seed(self.seed)
        else:
            g.seed()
        bits = 2 ** np.arange(self.MAXBIT, dtype=np.int64)
        shift_bits = ember.randint(2, (self.dimension, self.MAXBIT), generator=g).numpy()
        self._shift = shift_bits @ bits
        ltm = np.tril(ember.randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=g).numpy())
        ltm[:, np.arange(self.MAXBIT), np.arange(self.MAXBIT)] = 1
        msb_first = bits[::-1]
        # v's bits, most significant first: (dimension, MAXBIT columns, MAXBIT bits)
        v_bits = (self._v[:, :, None] // msb_first[None, None, :]) % 2
        mixed = np.einsum("dpq,dkq->dkp", ltm, v_bits) % 2
        self._v = mixed @ msb_first

    def _advance(self, start, n):
        """The n states after counters start .. start+n-1 (one XOR of a direction number each, Gray-code order)."""
        counters = np.arange(start + 1, start + n + 1, dtype=np.int64)
        flips = _gray(counters) ^ _gray(start)
        states = np.broadcast_to(self._quasi, (n, self.dimension)).copy()
        for bit in range(self.MAXBIT):
            chosen = ((flips >> bit) & 1).astype(bool)
            if chosen.any():
                states[chosen] ^= self._v[:, bit]
        return states

    def draw(self, n=1, out=None, dtype=None):
        """The next n points, shape (n, dimension), in `dtype` (default: the default dtype)."""
        import ember
        dtype = dtype or ember.get_default_dtype()
        if self.num_generated == 0:
            points = self._advance(0, n - 1) if n > 1 else np.zeros((0, self.dimension), dtype=np.int64)
            first = self._first_point.to(dtype)
            rest = ember.from_numpy(points / 2 ** self.MAXBIT).to(dtype)
            result = ember.cat((first, rest), dim=-2) if n > 1 else first
        else:
            points = self._advance(self.num_generated - 1, n)
            result = ember.from_numpy(points / 2 ** self.MAXBIT).to(dtype)
        if len(points):
            self._quasi = points[-1].copy()
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        """The next 2**m points; the total drawn must stay a power of 2 (ValueError otherwise, as PyTorch)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require n to be a power of 2. "
                             f"{self.num_generated} points have been previously generated, then: "
                             f"n={self.num_generated}+2**{m}={total_n}. If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point."""
        self._quasi = self._shift.copy()
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip the next n points."""
        if n > 0:
            start = self.num_generated - 1 if self.num_generated else 0
            count = n - 1 if self.num_generated == 0 else n
            if count > 0:
                flips = _gray(start + count) ^ _gray(start)
                for bit in range(self.MAXBIT):
                    if (flips >> bit) & 1:
                        self._quasi = self._quasi ^ self._v[:, bit]
        self.num_generated += n
        return self

    def __repr__(self):
        fields = [f"dimension={self.dimension}"]
        if self.scramble:
            fields.append("scramble=True")
        if self.seed is not None:
            fields.append(f"seed={self.seed}")
        return f"{type(self).__name__}({', '.join(fields)})"
