# The words of the Kith client in English. Every message here has its Chinese twin in
# ../zh-CN/kith.ftl (a test checks both files have the same messages and arguments).

## Shared

loading = Loading…
close = Close
cancel = Cancel
send = Send
save = Save
language-system = System

## Settings

settings-title = Settings
settings-sound = Play a sound on new messages
settings-sound-unavailable = Play a sound on new messages (this build has no sound)
settings-notifications = Show a desktop notification on new messages while the window is in the background
settings-dark = Dark theme
settings-language = Language
settings-server = Server: { $server }
switch-account = Switch account
settings-downloads = Received files are saved in
settings-downloads-none = no folder: this computer names none
settings-change-downloads = Change folder…
blocked-title = Blocked people
blocked-explained = They cannot send you friend requests or messages, nor invite you into groups; they are not told.
blocked-none = You block no one.
unblock = Unblock
unread-count = { $count ->
    [one] { $count } unread message
   *[other] { $count } unread messages
}

## Widgets, times

ok = OK
recall-for-everyone = Recall for everyone
window-title-unread = Kith ({ $unread }) — { $name }
today = Today
yesterday = Yesterday
weekday =
    { $day ->
        [1] Mon
        [2] Tue
        [3] Wed
        [4] Thu
        [5] Fri
        [6] Sat
       *[7] Sun
    }
month =
    { $month ->
        [1] Jan
        [2] Feb
        [3] Mar
        [4] Apr
        [5] May
        [6] Jun
        [7] Jul
        [8] Aug
        [9] Sep
        [10] Oct
        [11] Nov
       *[12] Dec
    }
date-this-year = { $weekday } { $day } { $month }
date-other-year = { $weekday } { $day } { $month } { $year }
transfer-cancelled = Cancelled.

## Errors

error-unreachable = Cannot reach the server at { $address }. Check the address and that the server runs.
error-tls = Cannot make a secure connection to { $address }: { $detail }.
error-version-mismatch = This server speaks protocol version { $server } and this app version { $client }. Update whichever is older.
error-unexpected = The server gave an answer this app does not understand. Is this a Kith server?
error-malformed = The server could not read the request. Update the app.
error-frame-too-large = That was too large to send.
error-unknown-frame = The server does not know this request. Update the server.
error-unsupported-version = This server speaks another protocol version. Update the app or the server.
error-hello = The connection to the server did not start properly. Try again.
error-unauthorized = Your session has ended. Log in again.
error-forbidden = You may not do that here.
error-not-found = That no longer exists.
error-invalid-username = A user name has { $min } to { $max } characters: lowercase letters, digits, '_', '.' or '-', and starts with a letter.
error-invalid-display-name = A display name has 1 to { $max } characters, without control characters.
error-invalid-password = A password has { $min } to { $max } characters.
error-username-taken = This user name is taken. Choose another one.
error-wrong-credentials = Wrong user name or password.
error-account-disabled = This account is disabled. Ask the server's operator.
error-invalid-field = A value is too long, too short or out of range.
error-payload-too-large = That is too large for the server.
error-unsupported-media = The server does not accept this kind of file here.
error-rate-limited = Too many attempts. Wait a minute and try again.
error-already-friends = You are friends already.
error-duplicate-request = This request is already waiting for an answer.
error-recall-expired = It is too late to recall this message.
error-edit-expired = It is too late to edit this message.
error-already-member = Already a member.
error-owner-cannot-leave = The owner cannot leave the group: hand it over or dissolve it first.
error-expired = The file is no longer on the server.
error-method-not-allowed = The server does not take this request. Update the app.
error-timeout = The server took too long. Try again.
error-internal = The server failed. Try again in a moment.
certificate-untrusted = The certificate of { $server } is not vouched for by any authority this computer trusts ({ $reason }). A server that made its own certificate looks like this. Trust it only if its fingerprint is the one the server's operator gives you.
certificate-changed = WARNING: the certificate of { $server } has CHANGED since you trusted it. Someone may be intercepting the connection to read your messages and password. Nothing was sent. Trust the new certificate only if the server's operator confirms this fingerprint.
certificate-unknown-issuer = unknown issuer
certificate-expired = expired
certificate-not-valid-yet = not valid yet
certificate-other-name = made for another name
certificate-revoked = revoked

## Login

address-empty = Enter the server address, for example 127.0.0.1:8000.
address-no-host = The server address has no host name.
address-bad-port = '{ $port }' is not a port number (1 to 65535).
address-garbage = The server address cannot have a path or spaces.
login-cannot-save-certificate = Cannot save the trusted certificate: { $error }.
login-certificate-refused = Not connected: the server's certificate was not trusted.
login-enter-username = Enter your user name.
login-enter-password = Enter your password.
login-username-length = A user name has { $min } to { $max } characters.
login-enter-display-name = Enter the name others will see.
login-password-length = A password has at least { $min } characters.
login-create-account = Create an account
login-welcome = Welcome back
login-server = Server
login-server-placeholder = 127.0.0.1:8000 (a cluster's nodes: a:8000, b:8000)
login-custom-socket-port = Socket port is not the HTTP port + 1
login-socket-port = Socket port
login-socket-port-placeholder = HTTP port + 1
login-username = User name
login-username-placeholder = e.g. alice
login-display-name = Display name
login-display-name-placeholder = The name others see
login-password = Password
login-offline-kept = Your chats with this server are kept on this machine.
login-browse-offline = Browse offline
login-log-in = Log in
login-register = Register
login-logging-in = Logging in…
login-registering = Registering…
login-have-account = I have an account
accounts-choose = Choose an account
accounts-signed-in = Signed in
accounts-signed-out = Signed out
accounts-opening = Opening…
accounts-remove = Remove
accounts-use-another = Use another account
accounts-show = All accounts
certificate-changed-title = THE SERVER'S CERTIFICATE HAS CHANGED
certificate-unknown-title = Unknown certificate
certificate-fingerprint = SHA-256 fingerprint of the certificate presented:
certificate-fingerprint-before = Fingerprint trusted before:
certificate-trust-new = Trust the new certificate
certificate-trust = Trust and log in

## Roster

reach-sent = sent
reach-delivered = delivered
reach-read = read
reach-read-by = read by { $count }
conversation-fallback = Conversation { $id }
user-fallback = User { $id }

## Chat

chat-edit-window = Messages can be edited for { $hours } hours after sending.
chat-copied = Copied.
chat-recall-window = Messages can be recalled for { $seconds } seconds after sending.
online = online
offline = offline
chat-unfriend-sure = Remove friend: sure?
chat-block-sure = Block: sure? You stop being friends
chat-unfriend = Remove friend
chat-block = Block
chat-muted = muted
group-settings = Group settings
attachment-named = { $kind }: { $name }
attachment-picture = Picture
attachment-file = File
attachment-sticker = Sticker :{ $code }:
notice-created = { $name } created the group
notice-joined = { $name } joined
notice-left = { $name } left
notice-removed = { $name } was removed
notice-owner-changed = { $name } is now the owner
notice-dissolved = The group was dissolved

## Chat messages

quote-earlier = An earlier message
you-capital = You
you-lower = you
message-deleted = Message deleted
message-recalled = Message recalled
quote-a-message = A message
quote-editing = Editing your message
quote-replying = Replying
quote-replying-to = Replying to { $name }
selection-most = At most { $count } messages at once.
selection-delete-ask =
    { $count ->
        [one] Delete 1 message for you? Others keep it.
       *[other] Delete { $count } messages for you? Others keep them.
    }
selection-count =
    { $count ->
        [one] 1 message selected
       *[other] { $count } messages selected
    }
delete = Delete
forward = Forward
reply = Reply
delete-for-me = Delete for me
delete-for-everyone = Delete for everyone
reactions-more = More…
list-and = { $rest } and { $last }
list-separator = {", "}
reactions-choose = Choose an emoji to react with.
composer-placeholder-long = Message (Enter sends, Shift+Enter new line, drop a file to send it)
composer-placeholder = Message
composer-offline-long = Offline — history only. Log in to write.
composer-offline = Offline — read only
composer-too-long = A message has at most { $max } characters.
remove = Remove
composer-send-files =
    { $count ->
        [one] Send the file
       *[other] Send { $count } files
    }
composer-sending = Sending { $name }
composer-files = Files
menu-delete-for-me-ask = Delete this message for you? Others keep it.
menu-delete-for-everyone-ask = Delete this message for everyone?
menu-copy-selection = Copy
menu-copy = Copy text
menu-save-as = Save as…
menu-select = Select
menu-edit = Edit
mentions-hint = Tab picks the first, Escape closes
mentions-jump = @ Jump to mention
mentions-jump-count = @ Jump to mention ({ $count })
announcement = Announcement
announcement-by = Announcement by { $name }
announcement-more = More
announcement-less = Less
hide = Hide
members-online = Members · { $online }/{ $total } online
log-newest = Newest messages ↓
log-new-count =
    { $count ->
        [one] 1 new message ↓
       *[other] { $count } new messages ↓
    }
log-new-messages = New messages
log-found = Found
log-loading-older = Loading older messages…
log-sending = sending…
log-not-sent = not sent
log-edited = edited
log-picture-broken = The picture cannot be shown.
log-picture-loading = Loading the picture…
log-deleted-by = Message deleted by { $name } · { $time }
log-you-recalled = You recalled a message
log-recalled-by = { $name } recalled a message
log-recalled = A message was recalled
former-member = a former member
log-forwarded-from = Forwarded from { $name }
log-downloading = Downloading
log-saved = Saved
log-open = Open
log-show-in-folder = Show in folder
log-save-copy = { $size } · save a copy
log-download = Download
log-progress = { $label } · { $done } of { $total }

## Emoji panel

emoji-recent = Recently used
emoji-smileys = Smileys & emotion
emoji-people = People & body
emoji-animals = Animals & nature
emoji-food = Food & drink
emoji-travel = Travel & places
emoji-activities = Activities
emoji-objects = Objects
emoji-symbols = Symbols
emoji-flags = Flags
emoji-search = Search emoji by name
emoji-none-found = No emoji by that name.
emoji-found-many = { $count } found; the first { $shown } shown: type more of the name.
emoji-found = { $count } found
emoji-recent-empty = Recently used: the emoji you insert show here.
tone-none = No skin tone
tone-light = Light skin tone
tone-medium-light = Medium-light skin tone
tone-medium = Medium skin tone
tone-medium-dark = Medium-dark skin tone
tone-dark = Dark skin tone

## Forwarding

forward-refused = Not forwarded. { $reason }
forward-unsupported = Not forwarded: this server cannot forward messages.

## Side bar

reconnect-now = Reconnect now
search = Search
back-to-login = Back to login
profile = Profile
logging-out = Logging out…
log-out = Log out
requests = Requests
add-friend = Add friend
friends-heading = FRIENDS
friends-none = No friends yet. Add one by name.
groups-heading = GROUPS
groups-join = Join
groups-new = New
groups-none = No groups yet.
group-muted-name = { $name } (muted)
archived-toggle = { $arrow } Archived ({ $count })
pinned = pinned
unpin = Unpin
pin = Pin
unarchive = Unarchive
archive = Archive
mark-read = Mark as read
mark-unread = Mark as unread
status-connecting = Connecting…
status-online = Online
status-reconnecting = Offline, reconnecting in { $seconds } s
status-offline = Offline — history only
home-choose-chat = Choose a friend or a group to chat with
home-chats = ☰ Chats

## Groups: creating, joining, settings

group = Group
group-name = Name
group-name-placeholder = Group name
group-description = Description
group-description-placeholder = What the group is about
group-name-length = A group name has 1 to { $max } characters.
group-description-length = A description has at most { $max } characters.
group-announcement-length = An announcement has at most { $max } characters.
saved = Saved.
confirm-sure = { $action }: sure?
role-owner = owner
role-admin = admin
role-member = member
group-admin-invite-each = Click Invite beside each friend to invite.
group-admin-nothing-to-save = Nothing to save.
group-admin-removed = { $name } was removed.
group-admin-removed-someone = The member was removed.
group-admin-not-member = You are no longer in this group.
group-admin-announcement = Announcement, shown at the top of the chat to members (empty: none)
group-admin-announcement-placeholder = A notice for every member
group-admin-announcement-count = { $count } / { $max } characters; Enter starts a new line
group-admin-mute = Mute: no sound and no badge; messages still arrive
group-admin-members = Members ({ $count })
group-admin-invite-friends = Invite friends
group-admin-invite-message = A message with the invitation (optional)
group-admin-invited = Invited
group-admin-invite = Invite
group-admin-dissolve = Dissolve the group
group-admin-leave = Leave the group
group-admin-owner-leave = To leave, hand the group over to another member first.
group-admin-make-admin = Make admin
group-admin-make-member = Make member
group-admin-hand-over = Hand over
group-admin-picture-changed = The picture is changed.
group-admin-picture-removed = The picture is removed.
group-admin-change-picture = Change picture…
group-admin-remove-picture = Remove picture
groups-create-title = Create a group
groups-name-placeholder = e.g. Chess Club
groups-description-optional = Description (optional)
groups-creating = Creating…
groups-create = Create
groups-join-title = Join a group
groups-join-message = A message for the group's admins (optional)
groups-none-found = No group by that name.
groups-member = Member
groups-asked = Asked
groups-apply = Apply
groups-member-count =
    { $count ->
        [one] 1 member
       *[other] { $count } members
    }

## Profile, requests, adding friends

profile-name-saved = Display name saved.
profile-picture-changed = Your picture is changed.
profile-password-changed = Password changed. Other sessions were logged out.
profile-enter-current-password = Enter your current password.
profile-new-password-length = A new password has at least { $min } characters.
profile-passwords-differ = The new password and its confirmation differ.
profile-change-picture = Change picture…
profile-change-password = Change password
profile-current-password = Current password
profile-new-password = New password
profile-new-password-again = New password again
request-friend = { $name } (@{ $username }) wants to be your friend
request-invitation-from = { $name } invites you to { $group }
request-invitation = You are invited to { $group }
request-application = { $name } asks to join { $group }
request-sent = You asked { $name } to be friends; waiting for an answer
request-withdraw = Withdraw
request-none = No requests.
request-message = “{ $message }”
request-accept = Accept
request-refuse = Refuse
add-friend-title = Add a friend
add-friend-search = User name or display name
add-friend-greeting = A message with your request (optional)
add-friend-none-found = Nobody found by that name.
add-friend-friend = Friend
add-friend-blocked = Blocked (Settings unblocks)
add-friend-add = Add

## Pictures and files

viewer-save-as = Save as…
viewer-open = Open in system viewer
viewer-opening = Opening the picture…
viewer-loading = Loading the picture… { $done } of { $total }
viewer-not-here = The picture is not on this computer.
media-copy-saved = Saved a copy as { $path }
media-no-data-folder = Files cannot be saved: this computer keeps no data for Kith.
media-cannot-write = You can no longer write in this conversation.
media-not-sent = { $name } was not sent: { $reason }

## Searching, forwarding, sending

search-no-history = There is no history on this computer to search.
search-failed = The history cannot be searched: { $error }
search-title = Search messages
search-placeholder = Words to find in every conversation
search-nothing = Nothing found.
search-limit = The newest { $count } matches; add words to narrow them.
search-when = { $day }, { $time }
forward-title =
    { $count ->
        [one] Forward a message
       *[other] Forward { $count } messages
    }
forward-none-found = No friend or group by that name.
forward-to =
    { $count ->
        [one] Forward to 1 chat
       *[other] Forward to { $count } chats
    }
forward-placeholder = Friend or group
delete-offline = Not connected: nothing was deleted.
file-cannot-save = Cannot save { $path }: { $error }
outbox-cannot-write-to = You can no longer write to { $name }.
outbox-nowhere = Not sent: there is no connection and no local history to keep it in.
outbox-cannot-keep = Cannot keep the message on this computer: { $error }
preview-deleted = A message was deleted
preview-line = { $who }: { $what }

## Alerts, the connection

alert-friend-request = Friend request
alert-friend-request-body = { $name } wants to be your friend
alert-group-request = Group request
group-left-removed = You were removed from { $name }.
group-left-dissolved = { $name } was dissolved by its owner.
kicked-elsewhere = This account logged in elsewhere.
kicked-logged-out = You were logged out by the server ({ $reason }).
logged-out = Logged out
certificate-not-accepted = Certificate not accepted
session-ended = Session ended
cannot-connect = Cannot connect
typing-one = { $name } is typing…
typing-two = { $first } and { $second } are typing…
typing-several = Several people are typing…

## Files on this computer

file-bad-name = { $path } has no name the server can take
file-not-a-file = { $path } is not a file
file-cannot-open = Cannot open { $path }: { $error }
file-cannot-read = Cannot read { $path }: { $error }
file-cannot-create = Cannot create { $path }: { $error }
file-cannot-write = Cannot write { $path }: { $error }

## Choosing files

attach-send-files = Send files
attach-choose-picture = Choose a picture
attach-save-copy = Save a copy
attach-choose-folder = Choose a folder
attach-nothing-at = There is no file or folder at { $path }.
attach-name-taken = { $name } is here already: choose another name.
attach-up = Up
attach-path = A folder or a file
attach-open-hint = Click a file to add it; it waits above the message field until you send it.
attach-file-name = File name
attach-save-here = Save here
attach-folder-hint = Open the folder, then use it.
attach-use-folder = Use this folder
attach-folder = folder
attach-limit = The first { $count } entries; type a path to go further.
file-cannot-show = Cannot show { $path }: { $error }
file-no-opener = Cannot open { $name }: this computer has no { $program } ({ $error }).
file-no-program = Cannot open { $name }: no program on this computer opens it.
