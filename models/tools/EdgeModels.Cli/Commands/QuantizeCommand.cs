using System.CommandLine;
using System.Globalization;
using EdgeModels.Cli.Calibration;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Quantization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models quantize</c>: static INT8 quantization in QDQ form, calibrated on a folder of images that are
/// preprocessed as the package manifest prescribes; the result is checked in ONNX Runtime's CPU provider.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        Argument<FileInfo> inputArgument = new("IN") { Description = "The float32 .onnx model (opset 13 or later)." };
        Argument<FileInfo> outputArgument = new("OUT") { Description = "Where to write the quantized model (replaced if it exists)." };
        Option<DirectoryInfo> calibrationOption = new("--calibration")
        {
            Description = "Folder of calibration images (PNG/JPEG/BMP; or its images/ subfolder), representative of production frames.",
            Required = true,
        };
        Option<FileInfo?> manifestOption = new("--manifest")
        {
            Description = "Package manifest whose input section says how to preprocess images. Default: manifest.json next to IN.",
        };
        Option<string> methodOption = new("--method")
        {
            Description = "Activation range: minmax (every value seen; the default, as defect pixels are the rare extremes) " +
                          "or percentile (clips the tails beyond --percentile).",
            DefaultValueFactory = _ => "minmax",
        };
        methodOption.AcceptOnlyFromAmong("minmax", "percentile");
        Option<double> percentileOption = new("--percentile")
        {
            Description = "For --method percentile: share of values (in percent) the range covers.",
            DefaultValueFactory = _ => 99.99,
        };
        Option<string> activationOption = new("--activation-type")
        {
            Description = "int8: symmetric, zero point 0, as TensorRT expects (the default). uint8: asymmetric with Relu folded, " +
                          "what ONNX Runtime's x86-64 CPU kernels run fastest.",
            DefaultValueFactory = _ => "int8",
        };
        activationOption.AcceptOnlyFromAmong("int8", "uint8");
        Option<string[]> excludeOpsOption = new("--exclude-ops")
        {
            Description = "Operator types left in float, comma-separated (e.g. ConvTranspose).",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string[]> excludeNodesOption = new("--exclude-nodes")
        {
            Description = "Node names left in float, comma-separated (e.g. the last Conv).",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<int> maxImagesOption = new("--max-images")
        {
            Description = "Use at most this many images, evenly spaced through the folder.",
            DefaultValueFactory = _ => 64,
        };
        Option<bool> perTensorOption = new("--per-tensor-weights") { Description = "One weight scale per tensor instead of per output channel." };

        Command command = new("quantize", "Quantize a float32 model to INT8 (QDQ), calibrating activations on images.")
        {
            inputArgument, outputArgument, calibrationOption, manifestOption, methodOption, percentileOption, activationOption,
            excludeOpsOption, excludeNodesOption, maxImagesOption, perTensorOption,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            FileInfo input = parse.GetRequiredValue(inputArgument);
            QuantizationOptions quantization = new()
            {
                Activations = parse.GetValue(activationOption) == "uint8"
                    ? ActivationQuantization.UInt8Asymmetric
                    : ActivationQuantization.Int8Symmetric,
                ExcludeOpTypes = [.. ModelCommandSupport.ParseNames(parse.GetValue(excludeOpsOption))],
                ExcludeNodes = [.. ModelCommandSupport.ParseNames(parse.GetValue(excludeNodesOption))],
                PerChannelWeights = !parse.GetValue(perTensorOption),
            };
            CalibrationOptions calibration = new()
            {
                Method = parse.GetValue(methodOption) == "percentile" ? CalibrationMethod.Percentile : CalibrationMethod.MinMax,
                Percentile = parse.GetValue(percentileOption),
            };
            return RunAsync(
                new Request(
                    input,
                    parse.GetRequiredValue(outputArgument),
                    parse.GetRequiredValue(calibrationOption),
                    parse.GetValue(manifestOption) ?? new FileInfo(Path.Combine(input.DirectoryName ?? ".", "manifest.json")),
                    parse.GetValue(maxImagesOption),
                    quantization,
                    calibration),
                parse.InvocationConfiguration.Output,
                parse.InvocationConfiguration.Error,
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(Request request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (request.MaxImages < 1)
        {
            await error.WriteLineAsync($"--max-images must be at least 1 (was {request.MaxImages}).").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        try
        {
            request.Quantization.Validate();
            request.CalibrationOptions.Validate();
        }
        catch (OnnxModelException ex)
        {
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if (!request.Calibration.Exists)
        {
            await error.WriteLineAsync($"--calibration: {request.Calibration.FullName} does not exist.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if (!request.Manifest.Exists)
        {
            await error.WriteLineAsync(
                $"{request.Manifest.FullName} does not exist; calibration preprocesses images as a package manifest says (pass --manifest).").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        ManifestLoadResult loaded = await ModelManifest.LoadAsync(request.Manifest.FullName, cancellationToken).ConfigureAwait(false);
        if (!loaded.IsValid)
        {
            await error.WriteLineAsync($"{request.Manifest.FullName} is not a valid manifest:").ConfigureAwait(false);
            foreach (ManifestProblem problem in loaded.Problems)
            {
                await error.WriteLineAsync($"  {problem}").ConfigureAwait(false);
            }

            return PackageConsole.ProblemsFound;
        }

        IReadOnlyList<string> images = CalibrationImageSource.FindImages(request.Calibration.FullName, request.MaxImages);
        if (images.Count == 0)
        {
            await error.WriteLineAsync($"--calibration: {request.Calibration.FullName} holds no PNG, JPEG or BMP images.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if (await ModelCommandSupport.TryLoadAsync(request.Input, error).ConfigureAwait(false) is not { } model)
        {
            return request.Input.Exists ? PackageConsole.ProblemsFound : PackageConsole.UsageError;
        }

        CalibrationImageSource source = new(images, loaded.Manifest);
        try
        {
            QuantizationPlan plan = QdqQuantizer.Plan(model, request.Quantization);
            await error.WriteLineAsync(
                $"calibrating {plan.TensorsToCalibrate.Count} activation tensors on {images.Count} images from {request.Calibration.FullName}").ConfigureAwait(false);
            ProgressPrinter progress = new(source, error);
            IReadOnlyDictionary<string, TensorRange> ranges = ActivationCalibrator.Collect(plan, source, request.CalibrationOptions, progress, cancellationToken);
            progress.Complete();
            QuantizationResult result = QdqQuantizer.Apply(plan, ranges);
            OnnxModelFile.Save(result.Model, request.Output.FullName);
            await PrintSummaryAsync(request, result, progress.Samples, output, error).ConfigureAwait(false);

            float[] firstSample = (float[])source.ReadSamples(cancellationToken).First().Clone();
            return await ModelCommandSupport.VerifyAsync(model, result.Model, firstSample, [.. source.Shape], output, error).ConfigureAwait(false)
                ? PackageConsole.Success
                : PackageConsole.ProblemsFound;
        }
        catch (OnnxModelException ex)
        {
            await error.WriteLineAsync($"{request.Input.Name}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }
        catch (FrameSourceException ex)
        {
            await error.WriteLineAsync($"calibration image: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }
        catch (OnnxRuntimeException ex)
        {
            await error.WriteLineAsync($"ONNX Runtime cannot run {request.Input.Name} for calibration: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }
    }

    private static async Task PrintSummaryAsync(Request request, QuantizationResult result, int samples, TextWriter output, TextWriter error)
    {
        string byOp = string.Join(", ", result.QuantizedByOp.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} {pair.Value}"));
        string method = request.CalibrationOptions.Method == CalibrationMethod.Percentile
            ? string.Create(CultureInfo.InvariantCulture, $"percentile {request.CalibrationOptions.Percentile}")
            : "minmax";
        string activations = request.Quantization.Activations == ActivationQuantization.Int8Symmetric ? "int8 symmetric" : "uint8 asymmetric";
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{request.Output.Name}: int8 weights in {byOp}; {result.QuantizedTensors} activation tensors quantized ({activations}, {method}, " +
            $"{samples} samples); {result.FoldedRelus} Relus folded; " +
            $"{request.Input.Length / (1024.0 * 1024.0):F2} MiB -> {new FileInfo(request.Output.FullName).Length / (1024.0 * 1024.0):F2} MiB")).ConfigureAwait(false);
        foreach (string skipped in result.Skipped)
        {
            await output.WriteLineAsync($"  left in float: {skipped}").ConfigureAwait(false);
        }

        if (result.ClampedBiasValues > 0)
        {
            await error.WriteLineAsync($"warning: {result.ClampedBiasValues} bias values did not fit int32 and were clamped.").ConfigureAwait(false);
        }
    }

    private sealed record Request(
        FileInfo Input,
        FileInfo Output,
        DirectoryInfo Calibration,
        FileInfo Manifest,
        int MaxImages,
        QuantizationOptions Quantization,
        CalibrationOptions CalibrationOptions);

    /// <summary>
    /// Prints calibration progress to stderr about ten times per run, as images complete; called on the
    /// calibrating thread.
    /// </summary>
    private sealed class ProgressPrinter(CalibrationImageSource source, TextWriter error) : IProgress<int>
    {
        private readonly int _step = Math.Max(1, source.ImageCount / 10);
        private int _printed;

        public int Samples { get; private set; }

        public void Report(int value)
        {
            // The first sample of image n arrives once images 1..n-1 are done.
            int done = source.ImagesRead - 1;
            if (done > _printed && done % _step == 0)
            {
                Print(done, Samples);
            }

            Samples = value;
        }

        public void Complete() => Print(source.ImagesRead, Samples);

        private void Print(int images, int samples)
        {
            _printed = images;
            error.WriteLine($"  calibrated {images}/{source.ImageCount} images ({samples} samples)");
        }
    }
}
