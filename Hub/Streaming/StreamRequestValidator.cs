using EventHub.Contracts;
using EventHub.Log;
using Microsoft.Extensions.Options;

namespace EventHub.Streaming;

/// <summary>
/// Checks the shape of a <see cref="StreamRequest"/> (lengths, counts, characters, offset syntax).
/// Whether an offset belongs to this log is checked by <see cref="EventStreamSource"/>.
/// </summary>
public sealed class StreamRequestValidator(IOptions<StreamOptions> options)
{
    public ValidatedStreamRequest Validate(StreamRequest request)
    {
        var o = options.Value;
        // Counted as the filter keeps them: a project named twice is one project (EventFilter).
        static int Named(IReadOnlyList<string> names, int max) => names.Count > max ? names.Distinct(StringComparer.Ordinal).Count() : names.Count;
        var projects = Named(request.Projects, o.MaxProjects);
        if (projects > o.MaxProjects)
            throw new StreamRequestException(StreamErrorCodes.TooManyProjects, request.ProjectsFromToken
                // The caller named none; "N were given" would be wrong about its request.
                ? $"The token grants {projects} projects, more than the {o.MaxProjects} a stream may read at once (Stream:MaxProjects): " +
                  $"name at most {o.MaxProjects} of them in the request."
                : $"At most {o.MaxProjects} projects may be requested at once (Stream:MaxProjects); {projects} were given.");
        var types = Named(request.Types, o.MaxTypes);
        if (types > o.MaxTypes)
            throw new StreamRequestException(StreamErrorCodes.TooManyTypes,
                $"At most {o.MaxTypes} types may be requested at once (Stream:MaxTypes); {types} were given.");

        foreach (var project in request.Projects)
        {
            if (string.IsNullOrEmpty(project))
                throw new StreamRequestException(StreamErrorCodes.InvalidProject, "A project id must not be empty.");
            if (project.Length > o.MaxProjectIdLength)
                throw new StreamRequestException(StreamErrorCodes.InvalidProject,
                    $"A project id may be at most {o.MaxProjectIdLength} characters long; one has {project.Length}.");
            if (!ProjectIds.IsValid(project, o.MaxProjectIdLength))
                throw new StreamRequestException(StreamErrorCodes.InvalidProject,
                    $"'{Truncate(project)}' is not a project id: use {ProjectIds.Rule(o.MaxProjectIdLength)}.");
        }

        foreach (var type in request.Types)
        {
            if (string.IsNullOrEmpty(type))
                throw new StreamRequestException(StreamErrorCodes.InvalidType, "An event type must not be empty.");
            if (type.Length > o.MaxTypeLength)
                throw new StreamRequestException(StreamErrorCodes.InvalidType,
                    $"An event type may be at most {o.MaxTypeLength} characters long; one has {type.Length}.");
            var name = type.EndsWith('*') ? type[..^1] : type;
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'))
                throw new StreamRequestException(StreamErrorCodes.InvalidType,
                    $"'{Truncate(type)}' is not an event type: use letters, digits, '_', '-', '.' and ':', optionally ending in '*' for a prefix (for example pr_*).");
            // A filter on one of them would match nothing and look like a quiet stream.
            if (type is StreamSignalTypes.Reset or StreamSignalTypes.StreamError)
                throw new StreamRequestException(StreamErrorCodes.InvalidType,
                    $"'{type}' is not an event type: it is the name of the stream's own signal (reset, stream_error), which every stream gets unasked.");
        }

        ParsedOffset? after = null;
        if (request.After is not null && !Offset.TryParse(request.After, out after))
            throw new StreamRequestException(StreamErrorCodes.InvalidOffset,
                $"'{Truncate(request.After)}' is not an offset. Send back an offset exactly as the stream gave it, or \"0\" for the beginning of the log.");

        return new ValidatedStreamRequest(new EventFilter(request.Projects, request.Types), after);
    }

    private static string Truncate(string s)
    {
        var clean = new string(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? clean + "…" : clean;
    }
}
