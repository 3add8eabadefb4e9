namespace EdgeModels.Onnx.Quantization;

/// <summary>The calibrated range of an activation tensor, in the tensor's own (float) units.</summary>
public readonly record struct TensorRange(float Min, float Max);

/// <summary>Scale and zero point of a per-tensor linear quantization: real = (q - ZeroPoint) * Scale.</summary>
internal readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    // Ranges narrower than this are constants (often exact zeros); any positive scale represents them.
    private const float MinimumRange = 1e-12f;

    public static QuantizationParameters For(TensorRange range, ActivationQuantization type)
    {
        if (type == ActivationQuantization.Int8Symmetric)
        {
            float amax = Math.Max(Math.Abs(range.Min), Math.Abs(range.Max));
            return new QuantizationParameters(amax < MinimumRange ? 1f : amax / 127f, 0);
        }

        // The range must contain 0 so that zero padding and Relu's floor are exact.
        float min = Math.Min(range.Min, 0f);
        float max = Math.Max(range.Max, 0f);
        if (max - min < MinimumRange)
        {
            return new QuantizationParameters(1f, 0);
        }

        float scale = (max - min) / 255f;
        int zeroPoint = (int)Math.Clamp(Math.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        return new QuantizationParameters(scale, zeroPoint);
    }
}
