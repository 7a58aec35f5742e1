<?php
/*
 * Builds a WordPress site through WordPress's own API, then writes its export and its own view of each post.
 *
 * Usage: php build_site.php SPEC.json OUT_DIR
 * Environment: WORDPRESS_CONFIG names /etc/wordpress/config-<name>.php (Debian's wp-config.php reads it),
 * WP_TEST_HOST is the host:port the site answers on.
 */

$spec = json_decode(file_get_contents($argv[1]), true);
$out = $argv[2];
$_SERVER['HTTP_HOST'] = getenv('WP_TEST_HOST');
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');
define('WP_INSTALLING', true);
function wp_mail() { return true; }  // no mail from a test site (wp_install sends one)
require_once '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/export.php';

$installed = wp_install($spec['site']['title'], 'admin', 'admin@example.test', true, '', 'admin-password-123');
update_option('timezone_string', $spec['site']['timezone']);
update_option('blogdescription', $spec['site']['description']);
update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
update_option('posts_per_rss', 100);
update_option('rss_use_excerpt', 0);

$users = array();
foreach ($spec['users'] as $user) {
    $users[$user['login']] = wp_insert_user(array(
        'user_login' => $user['login'], 'user_pass' => 'password-' . $user['login'],
        'user_email' => $user['login'] . '@example.test', 'display_name' => $user['display_name'],
        'role' => 'editor',
    ));
}
$users['admin'] = $installed['user_id'];

$attachments = array();
foreach ($spec['images'] as $image) {
    $id = wp_insert_attachment(array(
        'post_title' => $image['title'], 'post_mime_type' => 'image/jpeg', 'guid' => $image['url'],
        'post_status' => 'inherit',
    ));
    update_post_meta($id, '_wp_attached_file', $image['file']);
    update_post_meta($id, '_wp_attachment_image_alt', $image['alt']);
    update_post_meta($id, '_wp_attachment_metadata', array('width' => $image['width'], 'height' => $image['height'],
                                                           'file' => $image['file'], 'sizes' => array()));
    $attachments[$image['key']] = $id;
}

$ids = array();
foreach ($spec['posts'] as $post) {
    $categories = array();
    foreach ($post['categories'] as $name) {
        $term = term_exists($name, 'category');
        if (!$term) {
            $term = wp_insert_term($name, 'category');
        }
        $categories[] = (int) $term['term_id'];
    }
    $args = array(
        'post_title' => $post['title'], 'post_content' => $post['content'], 'post_excerpt' => $post['excerpt'],
        'post_status' => $post['status'], 'post_type' => $post['type'], 'post_date' => $post['date'],
        'post_author' => $users[$post['author']], 'tags_input' => $post['tags'],
        'post_category' => $categories,
    );
    $id = wp_insert_post(wp_slash($args), true);
    if (is_wp_error($id)) {
        fwrite(STDERR, $id->get_error_message() . "\n");
        exit(1);
    }
    if ($post['image'] !== '') {
        update_post_meta($id, '_thumbnail_id', $attachments[$post['image']]);
    }
    if ($post['edit'] !== '') {  // a later edit: makes a revision and moves post_modified
        wp_update_post(wp_slash(array('ID' => $id, 'post_content' => $post['edit'])));
        $later = gmdate('Y-m-d H:i:s', strtotime($post['date'] . ' UTC') + 86400 * 2);
        $GLOBALS['wpdb']->update($GLOBALS['wpdb']->posts,
            array('post_modified_gmt' => $later, 'post_modified' => get_date_from_gmt($later)), array('ID' => $id));
    }
    if ($post['status'] === 'trash') {
        wp_trash_post($id);
    }
    $ids[$post['key']] = $id;
}

$menu = wp_create_nav_menu('Main');
wp_update_nav_menu_item($menu, 0, array('menu-item-title' => 'Home', 'menu-item-url' => home_url('/'),
                                         'menu-item-status' => 'publish'));
flush_rewrite_rules();
clean_post_cache(0);
wp_cache_flush();

ob_start();
export_wp(array('content' => 'all'));
file_put_contents($out . '/export.xml', ob_get_clean());

// WordPress's own view of every post, to compare with what Syndicate serves.
remove_filter('the_content', 'wptexturize');
$truth = array();
foreach ($ids as $key => $id) {
    $post = get_post($id);
    $GLOBALS['post'] = $post;
    setup_postdata($post);
    $truth[$key] = array(
        'id' => $id, 'title' => $post->post_title, 'status' => $post->post_status, 'type' => $post->post_type,
        'date_gmt' => $post->post_date_gmt, 'modified_gmt' => $post->post_modified_gmt,
        'author' => get_the_author_meta('display_name', $post->post_author),
        'permalink' => get_permalink($id), 'content' => apply_filters('the_content', $post->post_content),
        'categories' => wp_get_post_categories($id, array('fields' => 'names')),
        'tags' => wp_get_post_tags($id, array('fields' => 'names')),
        'thumbnail' => (string) get_post_meta($id, '_thumbnail_id', true),
    );
}
file_put_contents($out . '/truth.json', json_encode($truth, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE));
echo "ok\n";
