# Kith 客户端的简体中文文本。每条消息在 ../en/kith.ftl 中都有对应的英文（测试会检查两个文件的
# 消息和参数一致）。

## 通用

loading = 加载中…
close = 关闭
cancel = 取消
send = 发送
save = 保存
language-system = 跟随系统

## 设置

settings-title = 设置
settings-sound = 收到新消息时播放提示音
settings-sound-unavailable = 收到新消息时播放提示音（此版本不含声音）
settings-notifications = 窗口在后台时，收到新消息显示桌面通知
settings-dark = 深色主题
settings-language = 语言
settings-downloads = 接收的文件保存在
settings-downloads-none = 没有文件夹：本机未指定
settings-change-downloads = 更改文件夹…
settings-server = 服务器：{ $server }
switch-account = 切换账号
blocked-title = 黑名单
blocked-explained = 他们无法向你发送好友申请或消息，也无法邀请你进群；对方不会收到通知。
blocked-none = 黑名单为空。
unblock = 移出黑名单
unread-count = { $count } 条未读消息

## Widgets, times

ok = 确定
recall-for-everyone = 撤回
window-title-unread = Kith（{ $unread }）— { $name }
today = 今天
yesterday = 昨天
weekday =
    { $day ->
        [1] 周一
        [2] 周二
        [3] 周三
        [4] 周四
        [5] 周五
        [6] 周六
       *[7] 周日
    }
month = { $month }月
date-this-year = { $month }{ $day }日 { $weekday }
date-other-year = { $year }年{ $month }{ $day }日 { $weekday }
transfer-cancelled = 已取消。

## Errors

error-unreachable = 无法连接服务器 { $address }。请检查地址，并确认服务器正在运行。
error-tls = 无法与 { $address } 建立安全连接：{ $detail }。
error-version-mismatch = 服务器的协议版本为 { $server }，本应用为 { $client }。请更新较旧的一方。
error-unexpected = 服务器的回应无法识别。这是 Kith 服务器吗？
error-malformed = 服务器无法读取此请求。请更新应用。
error-frame-too-large = 内容过大，无法发送。
error-unknown-frame = 服务器不认识此请求。请更新服务器。
error-unsupported-version = 服务器使用其他协议版本。请更新应用或服务器。
error-hello = 与服务器的连接未能正常建立。请重试。
error-unauthorized = 登录已失效，请重新登录。
error-forbidden = 你没有权限进行此操作。
error-not-found = 内容不存在或已被删除。
error-invalid-username = 用户名长度为 { $min } 到 { $max } 个字符，只能包含小写字母、数字、“_”、“.”或“-”，并以字母开头。
error-invalid-display-name = 昵称长度为 1 到 { $max } 个字符，不能包含控制字符。
error-invalid-password = 密码长度为 { $min } 到 { $max } 个字符。
error-username-taken = 该用户名已被占用，请换一个。
error-wrong-credentials = 用户名或密码错误。
error-account-disabled = 此账号已被停用，请联系服务器管理员。
error-invalid-field = 有内容过长、过短或超出范围。
error-payload-too-large = 内容过大，服务器无法接收。
error-unsupported-media = 服务器不接受此类文件。
error-rate-limited = 操作过于频繁，请稍后再试。
error-already-friends = 你们已经是好友了。
error-duplicate-request = 已发送过相同的申请，正在等待对方处理。
error-recall-expired = 消息发送时间过久，无法撤回。
error-edit-expired = 消息发送时间过久，无法编辑。
error-already-member = 已经是群成员了。
error-owner-cannot-leave = 群主不能退出群聊：请先转让群主或解散该群。
error-expired = 文件已过期，服务器上已不存在。
error-method-not-allowed = 服务器不接受此请求。请更新应用。
error-timeout = 服务器响应超时，请重试。
error-internal = 服务器出错，请稍后再试。
certificate-untrusted = { $server } 的证书未经本机信任的任何机构认证（{ $reason }）。自签名证书的服务器就是这样。只有在证书指纹与服务器管理员提供的一致时才信任它。
certificate-changed = 警告：{ $server } 的证书在你信任之后已经改变。可能有人在拦截连接，以窃取你的消息和密码。未发送任何内容。只有在服务器管理员确认此指纹后才信任新证书。
certificate-unknown-issuer = 颁发者未知
certificate-expired = 已过期
certificate-not-valid-yet = 尚未生效
certificate-other-name = 颁发给其他域名
certificate-revoked = 已吊销

## Login

address-empty = 请输入服务器地址，例如 127.0.0.1:8000。
address-no-host = 服务器地址缺少主机名。
address-bad-port = “{ $port }”不是有效的端口号（1 到 65535）。
address-garbage = 服务器地址不能包含路径或空格。
login-cannot-save-certificate = 无法保存信任的证书：{ $error }。
login-certificate-refused = 未连接：未信任服务器的证书。
login-enter-username = 请输入用户名。
login-enter-password = 请输入密码。
login-username-length = 用户名长度为 { $min } 到 { $max } 个字符。
login-enter-display-name = 请输入别人看到的昵称。
login-password-length = 密码至少 { $min } 个字符。
login-create-account = 注册账号
login-welcome = 欢迎回来
login-server = 服务器
login-server-placeholder = 127.0.0.1:8000（集群节点：a:8000, b:8000）
login-custom-socket-port = Socket 端口不是 HTTP 端口 + 1
login-socket-port = Socket 端口
login-socket-port-placeholder = HTTP 端口 + 1
login-username = 用户名
login-username-placeholder = 例如 alice
login-display-name = 昵称
login-display-name-placeholder = 别人看到的名字
login-password = 密码
login-offline-kept = 本机保存了你在此服务器上的聊天记录。
login-browse-offline = 离线浏览
login-log-in = 登录
login-register = 注册
login-logging-in = 正在登录…
login-registering = 正在注册…
login-have-account = 已有账号
accounts-choose = 选择账号
accounts-signed-in = 已登录
accounts-signed-out = 未登录
accounts-opening = 正在打开…
accounts-remove = 移除
accounts-use-another = 使用其他账号
accounts-show = 全部账号
certificate-changed-title = 服务器证书已改变
certificate-unknown-title = 未知证书
certificate-fingerprint = 服务器出示的证书的 SHA-256 指纹：
certificate-fingerprint-before = 之前信任的指纹：
certificate-trust-new = 信任新证书
certificate-trust = 信任并登录

## Roster

reach-sent = 已发送
reach-delivered = 已送达
reach-read = 已读
reach-read-by = { $count } 人已读
conversation-fallback = 会话 { $id }
user-fallback = 用户 { $id }

## Chat

chat-edit-window = 消息发送后 { $hours } 小时内可以编辑。
chat-copied = 已复制。
chat-recall-window = 消息发送后 { $seconds } 秒内可以撤回。
online = 在线
offline = 离线
chat-unfriend-sure = 确定删除好友？
chat-block-sure = 确定拉黑？你们将不再是好友
chat-unfriend = 删除好友
chat-block = 拉黑
chat-muted = 已免打扰
group-settings = 群设置
attachment-named = { $kind }：{ $name }
attachment-picture = 图片
attachment-file = 文件
attachment-sticker = 表情 :{ $code }:
notice-created = { $name } 创建了群聊
notice-joined = { $name } 加入了群聊
notice-left = { $name } 退出了群聊
notice-removed = { $name } 被移出了群聊
notice-owner-changed = { $name } 成为新群主
notice-dissolved = 该群已解散

## Chat messages

quote-earlier = 一条较早的消息
you-capital = 你
you-lower = 你
message-deleted = 消息已删除
message-recalled = 消息已撤回
quote-a-message = 一条消息
quote-editing = 编辑消息
quote-replying = 回复
quote-replying-to = 回复 { $name }
selection-most = 一次最多选择 { $count } 条消息。
selection-delete-ask = 删除这 { $count } 条消息？仅对你删除，其他人仍可看到。
selection-count = 已选择 { $count } 条消息
delete = 删除
forward = 转发
reply = 回复
delete-for-me = 仅对我删除
delete-for-everyone = 对所有人删除
reactions-more = 更多…
list-and = { $rest }和{ $last }
list-separator = 、
reactions-choose = 选择一个表情来回应。
composer-placeholder-long = 输入消息（Enter 发送，Shift+Enter 换行，拖入文件即可发送）
composer-placeholder = 输入消息
composer-offline-long = 离线 — 仅可查看聊天记录。登录后才能发消息。
composer-offline = 离线 — 只读
composer-too-long = 一条消息最多 { $max } 个字符。
remove = 移除
composer-send-files = 发送 { $count } 个文件
composer-sending = 正在发送 { $name }
composer-files = 文件
menu-delete-for-me-ask = 删除这条消息？仅对你删除，其他人仍可看到。
menu-delete-for-everyone-ask = 对所有人删除这条消息？
menu-copy-selection = 复制所选
menu-copy = 复制
menu-save-as = 另存为…
menu-select = 多选
menu-edit = 编辑
mentions-hint = Tab 选择第一个，Esc 关闭
mentions-jump = @ 有人@我
mentions-jump-count = @ 有人@我（{ $count }）
announcement = 群公告
announcement-by = { $name } 发布的群公告
announcement-more = 展开
announcement-less = 收起
hide = 隐藏
members-online = 群成员 · { $online }/{ $total } 在线
log-newest = 最新消息 ↓
log-new-count = { $count } 条新消息 ↓
log-new-messages = 以下为新消息
log-found = 搜索结果
log-loading-older = 正在加载更早的消息…
log-sending = 发送中…
log-not-sent = 发送失败
log-edited = 已编辑
log-picture-broken = 图片无法显示。
log-picture-loading = 图片加载中…
log-deleted-by = 消息已被 { $name } 删除 · { $time }
log-you-recalled = 你撤回了一条消息
log-recalled-by = { $name } 撤回了一条消息
log-recalled = 一条消息已被撤回
former-member = 已退出的成员
log-forwarded-from = 转发自 { $name }
log-downloading = 正在下载
log-saved = 已保存
log-open = 打开
log-show-in-folder = 在文件夹中显示
log-save-copy = { $size } · 另存一份
log-download = 下载
log-progress = { $label } · { $done } / { $total }

## Emoji panel

emoji-recent = 最近使用
emoji-smileys = 笑脸与情感
emoji-people = 人物与身体
emoji-animals = 动物与自然
emoji-food = 食物与饮料
emoji-travel = 旅行与地点
emoji-activities = 活动
emoji-objects = 物品
emoji-symbols = 符号
emoji-flags = 旗帜
emoji-search = 按名称搜索表情
emoji-none-found = 没有找到该名称的表情。
emoji-found-many = 找到 { $count } 个，仅显示前 { $shown } 个：请输入更完整的名称。
emoji-found = 找到 { $count } 个
emoji-recent-empty = 最近使用：你插入的表情会显示在这里。
tone-none = 默认肤色
tone-light = 浅肤色
tone-medium-light = 中浅肤色
tone-medium = 中等肤色
tone-medium-dark = 中深肤色
tone-dark = 深肤色

## Forwarding

forward-refused = 未转发。{ $reason }
forward-unsupported = 未转发：此服务器不支持转发消息。

## Side bar

reconnect-now = 立即重连
search = 搜索
back-to-login = 返回登录
profile = 个人资料
logging-out = 正在退出…
log-out = 退出登录
requests = 新朋友
add-friend = 添加好友
friends-heading = 好友
friends-none = 还没有好友。按名字添加一个吧。
groups-heading = 群聊
groups-join = 加入
groups-new = 创建
groups-none = 还没有群聊。
group-muted-name = { $name }（免打扰）
archived-toggle = { $arrow } 已归档（{ $count }）
pinned = 已置顶
unpin = 取消置顶
pin = 置顶
unarchive = 取消归档
archive = 归档
mark-read = 标为已读
mark-unread = 标为未读
status-connecting = 连接中…
status-online = 在线
status-reconnecting = 已断开，{ $seconds } 秒后重连
status-offline = 离线 — 仅可查看聊天记录
home-choose-chat = 选择一个好友或群聊开始聊天
home-chats = ☰ 消息

## 群聊：创建、加入、设置

group = 群聊
group-name = 群名称
group-name-placeholder = 群名称
group-description = 群简介
group-description-placeholder = 介绍一下这个群
group-name-length = 群名称为 1 到 { $max } 个字符。
group-description-length = 群简介最多 { $max } 个字符。
group-announcement-length = 群公告最多 { $max } 个字符。
saved = 已保存。
confirm-sure = 确定{ $action }？
role-owner = 群主
role-admin = 管理员
role-member = 成员
group-admin-invite-each = 请点击每位好友旁的“邀请”。
group-admin-nothing-to-save = 没有需要保存的修改。
group-admin-removed = 已将 { $name } 移出群聊。
group-admin-removed-someone = 已将该成员移出群聊。
group-admin-not-member = 你已不在此群聊中。
group-admin-announcement = 群公告，仅群成员可见，显示在聊天顶部（留空则不显示）
group-admin-announcement-placeholder = 给全体成员的通知
group-admin-announcement-count = { $count } / { $max } 字；按 Enter 换行
group-admin-mute = 消息免打扰：不响铃、不显示角标，消息照常接收
group-admin-members = 群成员（{ $count }）
group-admin-invite-friends = 邀请好友
group-admin-invite-message = 邀请附言（选填）
group-admin-invited = 已邀请
group-admin-invite = 邀请
group-admin-dissolve = 解散群聊
group-admin-leave = 退出群聊
group-admin-owner-leave = 如需退出，请先将群主转让给其他成员。
group-admin-make-admin = 设为管理员
group-admin-make-member = 取消管理员
group-admin-hand-over = 转让群主
group-admin-picture-changed = 群头像已更换。
group-admin-picture-removed = 群头像已移除。
group-admin-change-picture = 更换群头像…
group-admin-remove-picture = 移除群头像
groups-create-title = 创建群聊
groups-name-placeholder = 例如：象棋俱乐部
groups-description-optional = 群简介（选填）
groups-creating = 正在创建…
groups-create = 创建
groups-join-title = 加入群聊
groups-join-message = 给群管理员的验证消息（选填）
groups-none-found = 没有找到这个名称的群聊。
groups-member = 已加入
groups-asked = 已申请
groups-apply = 申请加入
groups-member-count = { $count } 名成员

## 个人资料、好友申请、添加好友

profile-name-saved = 昵称已保存。
profile-picture-changed = 头像已更换。
profile-password-changed = 密码已修改，其他登录设备已退出。
profile-enter-current-password = 请输入当前密码。
profile-new-password-length = 新密码至少 { $min } 个字符。
profile-passwords-differ = 两次输入的新密码不一致。
profile-change-picture = 更换头像…
profile-change-password = 修改密码
profile-current-password = 当前密码
profile-new-password = 新密码
profile-new-password-again = 再次输入新密码
request-friend = { $name }（@{ $username }）请求添加你为好友
request-invitation-from = { $name } 邀请你加入“{ $group }”
request-invitation = 你被邀请加入“{ $group }”
request-application = { $name } 申请加入“{ $group }”
request-sent = 你已向 { $name } 发送好友申请，等待对方验证
request-withdraw = 撤回
request-none = 暂无申请。
request-message = “{ $message }”
request-accept = 同意
request-refuse = 拒绝
add-friend-title = 添加好友
add-friend-search = 用户名或昵称
add-friend-greeting = 验证消息（选填）
add-friend-none-found = 没有找到这个名字的用户。
add-friend-friend = 已是好友
add-friend-blocked = 已拉黑（可在设置中移出黑名单）
add-friend-add = 添加

## 图片和文件

viewer-save-as = 另存为…
viewer-open = 用系统查看器打开
viewer-opening = 正在打开图片…
viewer-loading = 正在加载图片… { $done } / { $total }
viewer-not-here = 这张图片不在本机上。
media-copy-saved = 已另存为 { $path }
media-no-data-folder = 无法保存文件：本机没有 Kith 的数据目录。
media-cannot-write = 你已无法在此会话中发送消息。
media-not-sent = { $name } 发送失败：{ $reason }

## 搜索、转发、发送

search-no-history = 本机没有可搜索的聊天记录。
search-failed = 无法搜索聊天记录：{ $error }
search-title = 搜索聊天记录
search-placeholder = 在所有会话中搜索
search-nothing = 无结果。
search-limit = 仅显示最新的 { $count } 条结果，请输入更多关键词缩小范围。
search-when = { $day } { $time }
forward-title = 转发 { $count } 条消息
forward-none-found = 没有这个名字的好友或群聊。
forward-to = 转发给 { $count } 个会话
forward-placeholder = 好友或群聊
delete-offline = 未连接：没有删除任何内容。
file-cannot-save = 无法保存 { $path }：{ $error }
outbox-cannot-write-to = 你已无法给 { $name } 发消息。
outbox-nowhere = 发送失败：当前未连接，本机也没有可暂存消息的聊天记录。
outbox-cannot-keep = 无法在本机保存这条消息：{ $error }
preview-deleted = 一条消息已被删除
preview-line = { $who }：{ $what }

## 提醒、连接

alert-friend-request = 好友申请
alert-friend-request-body = { $name } 请求添加你为好友
alert-group-request = 入群申请
group-left-removed = 你已被移出“{ $name }”。
group-left-dissolved = “{ $name }”已被群主解散。
kicked-elsewhere = 你的账号已在其他地方登录。
kicked-logged-out = 你已被服务器强制下线（{ $reason }）。
logged-out = 已下线
certificate-not-accepted = 证书未被接受
session-ended = 登录已失效
cannot-connect = 无法连接
typing-one = { $name } 正在输入…
typing-two = { $first } 和 { $second } 正在输入…
typing-several = 多人正在输入…

## 本机文件

file-bad-name = { $path } 的文件名无法上传到服务器
file-not-a-file = { $path } 不是文件
file-cannot-open = 无法打开 { $path }：{ $error }
file-cannot-read = 无法读取 { $path }：{ $error }
file-cannot-create = 无法创建 { $path }：{ $error }
file-cannot-write = 无法写入 { $path }：{ $error }

## 选择文件

attach-send-files = 发送文件
attach-choose-picture = 选择图片
attach-save-copy = 另存为
attach-choose-folder = 选择文件夹
attach-nothing-at = { $path } 处没有文件或文件夹。
attach-name-taken = 此处已有 { $name }，请换个名字。
attach-up = 上一级
attach-path = 文件夹或文件路径
attach-open-hint = 点击文件即可添加，文件会先显示在输入框上方，发送时一起发出。
attach-file-name = 文件名
attach-save-here = 保存到这里
attach-folder-hint = 打开要使用的文件夹，然后点击“使用此文件夹”。
attach-use-folder = 使用此文件夹
attach-folder = 文件夹
attach-limit = 仅显示前 { $count } 项，输入路径可查看更多。
file-cannot-show = 无法显示 { $path }：{ $error }
file-no-opener = 无法打开 { $name }：本机没有 { $program }（{ $error }）。
file-no-program = 无法打开 { $name }：本机没有能打开它的程序。
