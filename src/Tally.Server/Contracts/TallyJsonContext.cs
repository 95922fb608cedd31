using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Tally.Server.Contracts;

/// <summary>
/// Source-generated JSON for every type on the wire: camelCase, field names matched exactly (the web
/// defaults match them case-insensitively, so "OPTIONIDS" would be read as "optionIds"), unknown
/// properties refused, and numbers only as JSON numbers (the web defaults would also read "2" as 2).
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNameCaseInsensitive = false,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(CreatePollRequest))]
[JsonSerializable(typeof(VoteRequest))]
[JsonSerializable(typeof(BatchVoteRequest))]
[JsonSerializable(typeof(PollResponse))]
[JsonSerializable(typeof(PollListResponse))]
[JsonSerializable(typeof(VoteResponse))]
[JsonSerializable(typeof(BatchVoteResponse))]
[JsonSerializable(typeof(ResultsResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(CreateWorkspaceRequest))]
[JsonSerializable(typeof(UpdateWorkspaceRequest))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(UpdateWebhookRequest))]
[JsonSerializable(typeof(ReplayWebhookRequest))]
[JsonSerializable(typeof(WebhookResponse))]
[JsonSerializable(typeof(WebhookWithSecretResponse))]
[JsonSerializable(typeof(WebhookListResponse))]
[JsonSerializable(typeof(WebhookAttemptListResponse))]
[JsonSerializable(typeof(MintInvitesRequest))]
[JsonSerializable(typeof(WatchTokenRequest))]
[JsonSerializable(typeof(WorkspaceResponse))]
[JsonSerializable(typeof(WorkspaceListResponse))]
[JsonSerializable(typeof(CreatedKeyResponse))]
[JsonSerializable(typeof(ApiKeyListResponse))]
[JsonSerializable(typeof(AuditPageResponse))]
[JsonSerializable(typeof(InvitesResponse))]
[JsonSerializable(typeof(WatchTokenResponse))]
[JsonSerializable(typeof(VoterResponse))]
[JsonSerializable(typeof(VerifyResponse))]
[JsonSerializable(typeof(ErasureRequest))]
[JsonSerializable(typeof(ErasureResponse))]
[JsonSerializable(typeof(CreateEventRequest))]
[JsonSerializable(typeof(JoinEventRequest))]
[JsonSerializable(typeof(EventResponse))]
[JsonSerializable(typeof(StandingResponse))]
[JsonSerializable(typeof(JoinLookupResponse))]
[JsonSerializable(typeof(LeadersResponse))]
[JsonSerializable(typeof(EventLiveResponse))]
[JsonSerializable(typeof(QuizResponse))]
[JsonSerializable(typeof(TextResponse))]
[JsonSerializable(typeof(QuestionsResponse))]
[JsonSerializable(typeof(HeldAnswersResponse))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
internal sealed partial class TallyJsonContext : JsonSerializerContext;
