namespace EdgeRuntime.Vision.Synthetic;

/// <summary>
/// SplitMix64: a tiny, fast generator whose output is fixed by its algorithm rather than by a runtime
/// version, so a scene rendered from the same seed and index is identical on every machine and .NET release.
/// </summary>
internal struct SceneRandom
{
    private ulong _state;

    /// <param name="seed">Sequence seed.</param>
    /// <param name="index">Scene index.</param>
    /// <param name="stream">Independent stream within a scene, so one stage drawing more numbers does not shift another.</param>
    public SceneRandom(long seed, long index, int stream)
    {
        // Mixing through the finaliser keeps neighbouring seeds, indices and streams uncorrelated.
        _state = Mix(((ulong)seed * 0x9E3779B97F4A7C15UL) ^ Mix((ulong)index + 0x632BE59BD9B4E019UL) ^ Mix((ulong)stream * 0xD1B54A32D192ED03UL));
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double Range(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [min, max] (both inclusive).</summary>
    public int Int(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min + 1));

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Standard normal sample (Box-Muller; one of the pair is discarded to keep the state simple).</summary>
    public double Gaussian()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
